#include "ssh_gateway/server.hpp"

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

namespace ssh_gateway {

using events::ErrorCode;
using events::make_error;

events::Result<void> ensure_host_key(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return {};
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(ErrorCode::unavailable, "cannot make " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  ssh_key key = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) return make_error(ErrorCode::unavailable, "cannot make a host key");
  const auto old_mask = ::umask(077);
  const int written = ssh_pki_export_privkey_file(key, nullptr, nullptr, nullptr, path.c_str());
  ::umask(old_mask);
  ssh_key_free(key);
  if (written != SSH_OK) return make_error(ErrorCode::unavailable, "cannot write the host key " + path);
  ::chmod(path.c_str(), 0600);
  spdlog::info("ssh-gateway: made the host key {}", path);
  return {};
}

namespace {

std::string peer_of(ssh_session session) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(ssh_get_fd(session), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "unknown";
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

events::Result<void> serve(Gateway& gateway, const std::atomic<bool>& stop) {
  const auto& s = gateway.settings;
  if (auto made = ensure_host_key(s.host_key); !made) return made.error();
  ssh_bind bind = ssh_bind_new();
  int port = s.port;
  bool process_config = false;
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &process_config);
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BINDADDR, s.address.c_str());
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BINDPORT, &port);
  if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_HOSTKEY, s.host_key.c_str()) != SSH_OK ||
      ssh_bind_listen(bind) != SSH_OK) {
    auto error = make_error(ErrorCode::unavailable, std::string("cannot listen: ") + ssh_get_error(bind));
    ssh_bind_free(bind);
    return error;
  }
  spdlog::info("ssh-gateway: listening on {}:{}", s.address, s.port);
  std::atomic<int> sessions{0};
  while (!stop) {
    ssh_session session = ssh_new();
    if (ssh_bind_accept(bind, session) != SSH_OK) {
      ssh_free(session);
      if (!stop) spdlog::warn("ssh-gateway: accept: {}", ssh_get_error(bind));
      continue;
    }
    // Small SSH packets go out at once: with Nagle's algorithm each reply of the handshake
    // waited for the client's delayed ACK (about 40 ms, three times per `ssh … true`).
    const int one = 1;
    setsockopt(ssh_get_fd(session), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (sessions >= s.max_sessions) {
      ssh_disconnect(session);
      ssh_free(session);
      continue;
    }
    ++sessions;
    std::thread([session, &gateway, &sessions, source = peer_of(session)] {
      serve_session(session, gateway, source);
      --sessions;
    }).detach();
  }
  ssh_bind_free(bind);
  return {};
}

}  // namespace ssh_gateway
