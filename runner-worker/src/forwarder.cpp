#include "runner/forwarder.hpp"
#include "runner/splice.hpp"

#include <fcntl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <sstream>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

namespace runner {

namespace asio = boost::asio;
using asio::ip::tcp;
using events::ErrorCode;
using events::make_error;

events::Result<int> connect_in_namespace(int pid, unsigned short port) {
  // On a thread of its own: setns changes the calling thread's namespace only.
  std::promise<events::Result<int>> done;
  std::thread([&] {
    auto fail = [&](const std::string& what) {
      done.set_value(make_error(ErrorCode::unavailable, what + ": " + std::strerror(errno)));
    };
    const int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
    if (home < 0 || target < 0) {
      fail("cannot open the network namespaces");
      if (home >= 0) close(home);
      if (target >= 0) close(target);
      return;
    }
    if (setns(target, CLONE_NEWNET) != 0) {
      fail("setns into the sandbox");
      close(home);
      close(target);
      return;
    }
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int rc = fd < 0 ? -1 : connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    const int saved = errno;
    setns(home, CLONE_NEWNET);  // the thread ends anyway; its namespace goes with it
    close(home);
    close(target);
    if (rc != 0) {
      if (fd >= 0) close(fd);
      errno = saved;
      fail("nothing listens on port " + std::to_string(port) + " in the sandbox");
      return;
    }
    done.set_value(fd);
  }).join();
  return done.get_future().get();
}

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// (A C string: g++ 12 mishandles std::string temporaries made inside a co_await.)
asio::awaitable<void> answer(tcp::socket& client, const char* status) {
  const std::string text = std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  co_await asio::async_write(client, asio::buffer(text), kTuple);
}

}  // namespace

struct Forwarder::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::function<int(const std::string&)> pid_of;
  std::string key;  // Proxy-Authorization: Bearer <key>, asked of every client
  std::jthread thread;

  // The header's value in a request head, case-insensitively by name; empty when absent.
  static std::string header(const std::string& head, std::string_view name) {
    std::istringstream lines(head);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(line[i])) == std::tolower(static_cast<unsigned char>(name[i]));
      }
      if (!same) continue;
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      return value;
    }
    return {};
  }

  asio::awaitable<void> serve(tcp::socket client) {
    asio::streambuf head(8192);  // a request head larger than this is refused
    // A client that never finishes its request head is dropped after 10 s.
    asio::steady_timer deadline(io, std::chrono::seconds(10));
    deadline.async_wait([&client](const boost::system::error_code& ec) {
      if (!ec) {
        boost::system::error_code ignored;
        client.close(ignored);
      }
    });
    auto [ec, n] = co_await asio::async_read_until(client, head, "\r\n\r\n", kTuple);
    deadline.cancel();
    if (ec) co_return;
    // The request head is the first n bytes; anything after it is the client's first data.
    const std::string request_head(asio::buffers_begin(head.data()), asio::buffers_begin(head.data()) + static_cast<std::ptrdiff_t>(n));
    head.consume(n);
    // Only the platform (the edge proxy, the API) may open connections into sandboxes.
    const auto given = header(request_head, "Proxy-Authorization");
    const std::string wanted = "Bearer " + key;
    if (key.empty() || given.size() != wanted.size() ||
        CRYPTO_memcmp(given.data(), wanted.data(), wanted.size()) != 0) {
      co_await answer(client, "407 Proxy Authentication Required");
      co_return;
    }
    std::istringstream in(request_head);
    std::string method, target, version;
    in >> method >> target >> version;
    const auto colon = target.rfind(':');
    if (method != "CONNECT" || colon == std::string::npos) {
      co_await answer(client, "400 Bad Request");
      co_return;
    }
    const auto id = target.substr(0, colon);
    int port = 0;
    try {
      port = std::stoi(target.substr(colon + 1));
    } catch (const std::exception&) {
    }
    if (port < 1 || port > 65535) {
      co_await answer(client, "400 Bad Request");
      co_return;
    }
    const int pid = pid_of(id);
    if (pid <= 0) {
      co_await answer(client, "404 Not Found");  // no such sandbox running here
      co_return;
    }
    auto fd = connect_in_namespace(pid, static_cast<unsigned short>(port));
    if (!fd) {
      co_await answer(client, "502 Bad Gateway");
      co_return;
    }
    tcp::socket upstream(io);
    upstream.assign(tcp::v4(), *fd);
    const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    auto [wec, wn] = co_await asio::async_write(client, asio::buffer(ok), kTuple);
    if (wec) co_return;
    // What the client sent after its request head goes first.
    if (head.size() > 0) {
      auto [hec, hn] = co_await asio::async_write(upstream, head.data(), kTuple);
      if (hec) co_return;
    }
    co_await splice(client, upstream);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }
};

Forwarder::Forwarder(const std::string& address, unsigned short port, std::string key,
                     std::function<int(const std::string&)> pid_of)
    : impl_(std::make_unique<Impl>()) {
  impl_->pid_of = std::move(pid_of);
  impl_->key = std::move(key);
  const tcp::endpoint endpoint(asio::ip::make_address(address), port);
  impl_->acceptor.open(endpoint.protocol());
  // Not inherited by crun: a container created but not yet started (its init waits inside crun's
  // child) would keep the port bound after this runner died, and its restart could not listen.
  ::fcntl(impl_->acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::jthread([this] { impl_->io.run(); });
}

Forwarder::~Forwarder() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
}

}  // namespace runner
