#include "runner/net_sni_gate.hpp"

#include "runner/net_sni.hpp"
#include "runner/splice.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <thread>

namespace runner {

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ip = events::network;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct SniGate::Impl {
  Network& network;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::jthread thread;

  explicit Impl(Network& n) : network(n) {}

  asio::awaitable<void> serve(tcp::socket client) {
    boost::system::error_code ec;
    const auto peer = client.remote_endpoint(ec);
    if (ec || !peer.address().is_v4()) co_return;
    const auto who = network.client(static_cast<std::uint32_t>(peer.address().to_v4().to_uint()));
    sockaddr_in original{};
    socklen_t length = sizeof original;
    if (!who || ::getsockopt(client.native_handle(), SOL_IP, SO_ORIGINAL_DST, &original, &length) != 0) co_return;
    const auto address = ntohl(original.sin_addr.s_addr);
    const auto port = ntohs(original.sin_port);
    // The ClientHello: at most one record, within 5 s.
    std::string hello;
    net::Sni sni;
    asio::steady_timer deadline(io, std::chrono::seconds(5));
    using namespace asio::experimental::awaitable_operators;
    while (sni.status == net::Sni::Status::more && hello.size() < 20000) {
      std::array<char, 4096> chunk{};
      auto got = co_await (client.async_read_some(asio::buffer(chunk), kTuple) || deadline.async_wait(kTuple));
      if (got.index() != 0) co_return;
      auto [rec, n] = std::get<0>(got);
      if (rec || n == 0) co_return;
      hello.append(chunk.data(), n);
      sni = net::read_sni(hello);
    }
    const auto name = sni.status == net::Sni::Status::name ? sni.name : std::string();
    if (!network.allows_tls(who->index, address, name)) {
      spdlog::info("sni gate: sandbox address {} refused TLS to {}:{} for '{}'", peer.address().to_string(),
                   ip::ipv4_text(address), port, name);
      co_return;
    }
    tcp::socket upstream(io);
    upstream.open(tcp::v4(), ec);
    if (ec) co_return;
    ::fcntl(upstream.native_handle(), F_SETFD, FD_CLOEXEC);
    const int mark = static_cast<int>(Network::kUpstreamMark);
    ::setsockopt(upstream.native_handle(), SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    asio::steady_timer connect_deadline(io, std::chrono::seconds(10));
    auto connected = co_await (upstream.async_connect(tcp::endpoint(asio::ip::address_v4(address), port), kTuple) ||
                               connect_deadline.async_wait(kTuple));
    if (connected.index() != 0 || std::get<0>(std::get<0>(connected))) co_return;
    upstream.set_option(tcp::no_delay(true), ec);
    auto [wec, w] = co_await asio::async_write(upstream, asio::buffer(hello), kTuple);
    if (wec) co_return;
    co_await splice(client, upstream);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }
};

SniGate::SniGate(Network& network) : impl_(std::make_unique<Impl>(network)) {
  const tcp::endpoint local(asio::ip::make_address_v4(network.resolver_address()), net::kSniGatePort);
  impl_->acceptor.open(local.protocol());
  ::fcntl(impl_->acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(local);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::jthread([this] { impl_->io.run(); });
  spdlog::info("sni gate: listening on {}:{}", network.resolver_address(), net::kSniGatePort);
}

SniGate::~SniGate() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
}

}  // namespace runner
