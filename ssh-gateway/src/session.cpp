#include "ssh_gateway/session.hpp"

#include "events/wire/stream.hpp"
#include "ssh_gateway/sandbox_link.hpp"

#include <boost/json.hpp>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <array>
#include <memory>
#include <optional>
#include <vector>

namespace ssh_gateway {

namespace {

namespace frames = events::wire::stream;
using Clock = std::chrono::steady_clock;

constexpr int kToolboxPort = 2280;
// The sandbox's own sftp-server, wherever its distribution put it.
constexpr const char* kSftpServer =
    "for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/libexec/sftp-server "
    "/usr/lib/ssh/sftp-server /usr/lib/sftp-server; do [ -x \"$p\" ] && exec \"$p\"; done; "
    "echo 'this sandbox has no sftp-server (install openssh-sftp-server in its image)' >&2; exit 127";

struct Session;

// One channel: a process in the sandbox, or a tunnel to a port in it.
struct Channel {
  Session& session;
  ssh_channel channel = nullptr;
  ssh_channel_callbacks_struct callbacks{};
  bool tunnel = false;  // direct-tcpip: raw bytes, no frames
  ProcessSpec spec;
  std::unique_ptr<SandboxLink> link;
  frames::Reader reader;
  bool watching = false;   // the link's fd is in the event
  bool unwatch = false;    // to be taken out of the event after this poll
  bool closed = false;     // the client closed the channel: free it after this poll
  bool ended = false;      // exit sent, or the link is gone
  bool reading = false;    // in on_readable (a blocking write may poll again)

  explicit Channel(Session& s) : session(s) {}
  void start(std::optional<std::string> command);
  void fail(const std::string& message, int code);
  void on_bytes(const char* data, std::size_t n);
  void finish(int code, const std::string& signal);
};

struct Session {
  ssh_session ssh;
  Gateway& gateway;
  std::string source;
  ssh_event event = nullptr;
  ssh_server_callbacks_struct callbacks{};
  std::string token;
  std::optional<events::wire::SshAccessGrant> grant;
  std::vector<std::unique_ptr<Channel>> channels;
  std::vector<Channel*> to_watch;  // links to add to the event after this poll
  Clock::time_point last_activity{};

  // The user name as a token: the grant when it is active and the source is not throttled.
  int authenticate(const char* user) {
    auto& throttle = gateway.throttle;
    if (!throttle.allowed(source, Clock::now())) {
      spdlog::info("ssh-gateway: {}: authentication refused: too many failures from this address", source);
      return SSH_AUTH_DENIED;
    }
    auto found = gateway.platform.access(user == nullptr ? "" : user, source);
    if (!found) {
      if (found.error().code == events::ErrorCode::not_found) throttle.failed(source, Clock::now());
      spdlog::info("ssh-gateway: {}: authentication refused: {}", source, found.error().message);
      return SSH_AUTH_DENIED;
    }
    token = user;
    grant = *found;
    return SSH_AUTH_SUCCESS;
  }

  // The grant as it stands now (a revoked or expired token opens nothing new).
  events::Result<events::wire::SshAccessGrant> current() {
    auto found = gateway.platform.access(token, source);
    if (found) grant = *found;
    return found;
  }

  // Why a channel cannot reach the sandbox now, if it cannot.
  std::optional<std::string> unreachable() {
    auto now = current();
    if (!now) {
      return now.error().code == events::ErrorCode::not_found ? "the SSH access token was revoked or has expired"
                                                              : "the platform did not answer: " + now.error().message;
    }
    const auto state = std::string(events::to_string(now->sandbox.state));
    if (now->sandbox.state != events::SandboxState::started) {
      return "sandbox " + now->sandbox.id.str() + " is " + state + ", not started: start it first";
    }
    return std::nullopt;
  }

  void activity() {
    if (!grant || Clock::now() - last_activity < std::chrono::seconds(30)) return;
    last_activity = Clock::now();
    gateway.platform.activity(grant->sandbox.id.str());
  }
};

Channel* channel_of(void* userdata) { return static_cast<Channel*>(userdata); }

// ---- the link's bytes, as the event loop sees them ----

int on_readable(socket_t fd, int revents, void* userdata) {
  auto* c = channel_of(userdata);
  if (c->reading || c->ended) return 0;
  c->reading = true;
  std::array<char, 65536> buffer{};
  const auto n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
  if (n > 0) {
    c->on_bytes(buffer.data(), static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || (revents & (POLLHUP | POLLERR)) != 0) {
    // The sandbox's end is gone: a tunnel ends with it; a process without its exit frame failed.
    if (c->tunnel) {
      ssh_channel_send_eof(c->channel);
      ssh_channel_close(c->channel);
      c->ended = true;
    } else {
      c->finish(255, "");
    }
    c->unwatch = true;
  }
  c->reading = false;
  return 0;
}

void Channel::on_bytes(const char* data, std::size_t n) {
  if (tunnel) {
    session.activity();
    ssh_channel_write(channel, data, static_cast<uint32_t>(n));
    return;
  }
  reader.feed(std::string_view(data, n));
  while (auto f = reader.next()) {
    const auto& payload = f->second;
    if (f->first == frames::Frame::output) {
      ssh_channel_write(channel, payload.data(), static_cast<uint32_t>(payload.size()));
    } else if (f->first == frames::Frame::error) {
      ssh_channel_write_stderr(channel, payload.data(), static_cast<uint32_t>(payload.size()));
    } else if (f->first == frames::Frame::exit) {
      boost::system::error_code ec;
      const auto v = boost::json::parse(payload, ec);
      int code = 255;
      std::string signal;
      if (!ec && v.is_object()) {
        if (const auto* e = v.as_object().if_contains("exitCode"); e != nullptr && e->is_int64()) code = static_cast<int>(e->as_int64());
        if (const auto* s = v.as_object().if_contains("signal"); s != nullptr && s->is_string()) signal = std::string(s->as_string());
      }
      finish(code, signal);
      unwatch = true;
      return;
    }
  }
  if (reader.failed()) {
    fail("the sandbox's stream broke", 255);
    unwatch = true;
  }
}

void Channel::finish(int code, const std::string& signal) {
  if (ended) return;
  ended = true;
  if (!signal.empty()) {
    ssh_channel_request_send_exit_signal(channel, signal.c_str(), 0, "", "");
  } else {
    ssh_channel_request_send_exit_status(channel, code);
  }
  ssh_channel_send_eof(channel);
  ssh_channel_close(channel);
}

void Channel::fail(const std::string& message, int code) {
  spdlog::info("ssh-gateway: {}: {}", session.source, message);
  const std::string line = "ssh-gateway: " + message + (spec.terminal ? "\r\n" : "\n");
  ssh_channel_write_stderr(channel, line.data(), static_cast<uint32_t>(line.size()));
  finish(code, "");
}

void Channel::start(std::optional<std::string> command) {
  if (auto why = session.unreachable()) {
    fail(*why, 1);
    return;
  }
  spec.command = std::move(command);
  const auto& sandbox = session.grant->sandbox;
  auto opened = SandboxLink::open(sandbox.runner_endpoint, session.gateway.forward_key, sandbox.id.str(), kToolboxPort);
  if (!opened) {
    fail(opened.error().message, 1);
    return;
  }
  link = std::move(*opened);
  if (auto started = link->start_process(spec); !started) {
    fail("the sandbox could not start it: " + started.error().message, 1);
    link.reset();
    return;
  }
  session.to_watch.push_back(this);
}

// ---- channel requests ----

int on_data(ssh_session, ssh_channel, void* data, uint32_t len, int, void* userdata) {
  auto* c = channel_of(userdata);
  if (!c->link || c->ended) return static_cast<int>(len);  // nowhere to go: dropped, as a closed stdin does
  const std::string bytes(static_cast<const char*>(data), len);
  if (c->tunnel) c->session.activity();
  if (!c->link->send(c->tunnel ? bytes : frames::frame(frames::Frame::input, bytes))) c->link.reset();
  return static_cast<int>(len);
}

void on_eof(ssh_session, ssh_channel, void* userdata) {
  auto* c = channel_of(userdata);
  if (!c->link) return;
  if (c->tunnel) {
    ::shutdown(c->link->fd(), SHUT_WR);
  } else {
    c->link->send(frames::frame(frames::Frame::eof, ""));
  }
}

void on_close(ssh_session, ssh_channel, void* userdata) { channel_of(userdata)->closed = true; }

void on_signal(ssh_session, ssh_channel, const char* signal, void* userdata) {
  auto* c = channel_of(userdata);
  if (c->link && !c->tunnel) c->link->send(frames::frame(frames::Frame::signal, signal));
}

int on_pty(ssh_session, ssh_channel, const char* term, int cols, int rows, int, int, void* userdata) {
  auto* c = channel_of(userdata);
  c->spec.terminal = Terminal{term == nullptr || *term == '\0' ? "xterm-256color" : term, std::clamp(cols, 1, 1000),
                              std::clamp(rows, 1, 1000)};
  return 0;
}

int on_window_change(ssh_session, ssh_channel, int cols, int rows, int, int, void* userdata) {
  auto* c = channel_of(userdata);
  if (c->spec.terminal) {
    c->spec.terminal->cols = std::clamp(cols, 1, 1000);
    c->spec.terminal->rows = std::clamp(rows, 1, 1000);
  }
  if (c->link && !c->tunnel) {
    const auto size = boost::json::serialize(boost::json::object{{"cols", cols}, {"rows", rows}});
    c->link->send(frames::frame(frames::Frame::resize, size));
  }
  return 0;
}

int on_env(ssh_session, ssh_channel, const char* name, const char* value, void* userdata) {
  channel_of(userdata)->spec.env[name] = value;
  return 0;
}

int on_shell(ssh_session, ssh_channel, void* userdata) {
  channel_of(userdata)->start(std::nullopt);
  return 0;
}

int on_exec(ssh_session, ssh_channel, const char* command, void* userdata) {
  channel_of(userdata)->start(std::string(command));
  return 0;
}

int on_subsystem(ssh_session, ssh_channel, const char* subsystem, void* userdata) {
  if (std::string_view(subsystem) != "sftp") return 1;
  channel_of(userdata)->start(std::string(kSftpServer));
  return 0;
}

Channel& add_channel(Session& s, ssh_channel ch, bool tunnel) {
  auto c = std::make_unique<Channel>(s);
  c->channel = ch;
  c->tunnel = tunnel;
  auto& cb = c->callbacks;
  cb.userdata = c.get();
  cb.channel_data_function = on_data;
  cb.channel_eof_function = on_eof;
  cb.channel_close_function = on_close;
  if (!tunnel) {
    cb.channel_signal_function = on_signal;
    cb.channel_pty_request_function = on_pty;
    cb.channel_shell_request_function = on_shell;
    cb.channel_pty_window_change_function = on_window_change;
    cb.channel_exec_request_function = on_exec;
    cb.channel_env_request_function = on_env;
    cb.channel_subsystem_request_function = on_subsystem;
  }
  ssh_callbacks_init(&cb);
  ssh_set_channel_callbacks(ch, &cb);
  s.channels.push_back(std::move(c));
  return *s.channels.back();
}

// ---- the session ----

int on_auth_none(ssh_session, const char* user, void* userdata) {
  return static_cast<Session*>(userdata)->authenticate(user);
}

int on_auth_pubkey(ssh_session, const char* user, ssh_key_struct*, char signature_state, void* userdata) {
  // Any key: the token is what is checked. A probe (no signature yet) is answered alike.
  if (signature_state != SSH_PUBLICKEY_STATE_NONE && signature_state != SSH_PUBLICKEY_STATE_VALID) return SSH_AUTH_DENIED;
  return static_cast<Session*>(userdata)->authenticate(user);
}

ssh_channel on_session_channel(ssh_session ssh, void* userdata) {
  auto* s = static_cast<Session*>(userdata);
  ssh_channel ch = ssh_channel_new(ssh);
  if (ch != nullptr) add_channel(*s, ch, false);
  return ch;
}

// direct-tcpip (ssh -L): to a port of the sandbox's own loopback; never its toolbox port.
int on_message(ssh_session, ssh_message message, void* userdata) {
  auto* s = static_cast<Session*>(userdata);
  if (ssh_message_type(message) != SSH_REQUEST_CHANNEL_OPEN || ssh_message_subtype(message) != SSH_CHANNEL_DIRECT_TCPIP) {
    return 1;  // libssh's default answer: refused
  }
  const std::string host = ssh_message_channel_request_open_destination(message);
  const int port = ssh_message_channel_request_open_destination_port(message);
  if ((host != "localhost" && host != "127.0.0.1") || port < 1 || port > 65535 || port == kToolboxPort) return 1;
  if (!s->grant || s->unreachable()) return 1;
  const auto& sandbox = s->grant->sandbox;
  auto link = SandboxLink::open(sandbox.runner_endpoint, s->gateway.forward_key, sandbox.id.str(), port);
  if (!link) return 1;
  ssh_channel ch = ssh_message_channel_request_open_reply_accept(message);
  if (ch == nullptr) return 0;
  auto& c = add_channel(*s, ch, true);
  c.link = std::move(*link);
  s->to_watch.push_back(&c);
  s->activity();
  return 0;
}

}  // namespace

void serve_session(ssh_session ssh, Gateway& gateway, const std::string& source) {
  Session s{ssh, gateway, source};
  s.callbacks.userdata = &s;
  s.callbacks.auth_none_function = on_auth_none;
  s.callbacks.auth_pubkey_function = on_auth_pubkey;
  s.callbacks.channel_open_request_session_function = on_session_channel;
  ssh_callbacks_init(&s.callbacks);
  ssh_set_server_callbacks(ssh, &s.callbacks);
  ssh_set_message_callback(ssh, on_message, &s);
  ssh_set_auth_methods(ssh, SSH_AUTH_METHOD_NONE | SSH_AUTH_METHOD_PUBLICKEY);
  long timeout = 30;  // key exchange and each blocking step
  ssh_options_set(ssh, SSH_OPTIONS_TIMEOUT, &timeout);
  if (ssh_handle_key_exchange(ssh) != SSH_OK) {
    spdlog::info("ssh-gateway: {}: key exchange: {}", source, ssh_get_error(ssh));
    ssh_disconnect(ssh);
    ssh_free(ssh);
    return;
  }
  s.event = ssh_event_new();
  ssh_event_add_session(s.event, ssh);
  const auto began = Clock::now();
  for (;;) {
    if (ssh_event_dopoll(s.event, 1000) == SSH_ERROR) break;
    if ((ssh_get_status(ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0) break;
    if (!s.grant && Clock::now() - began > std::chrono::minutes(1)) break;  // never authenticated
    for (auto* c : s.to_watch) {
      if (!c->link || c->ended) continue;
      // What came with the daemon's answer first, as a read would: a blocking write inside it polls
      // the session's event, and must not read the link meanwhile (its end-of-stream would finish
      // the channel with 255 between the output and the error frames, and the error would be lost).
      if (auto first = c->link->take_leftover(); !first.empty()) {
        c->reading = true;
        c->on_bytes(first.data(), first.size());
        c->reading = false;
      }
      if (c->ended) continue;  // the exit frame came with the answer
      ssh_event_add_fd(s.event, c->link->fd(), POLLIN, on_readable, c);
      c->watching = true;
    }
    s.to_watch.clear();
    for (auto it = s.channels.begin(); it != s.channels.end();) {
      auto& c = **it;
      if (c.watching && (c.unwatch || c.closed)) {
        ssh_event_remove_fd(s.event, c.link->fd());
        c.watching = false;
      }
      if (c.closed) {
        c.link.reset();  // the daemon hangs the process up
        ssh_channel_free(c.channel);
        it = s.channels.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : s.channels) {
    if (c->watching) ssh_event_remove_fd(s.event, c->link->fd());
    c->link.reset();
  }
  s.channels.clear();
  ssh_event_remove_session(s.event, ssh);
  ssh_event_free(s.event);
  ssh_disconnect(ssh);
  ssh_free(ssh);
}

}  // namespace ssh_gateway
