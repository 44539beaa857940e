#include "runner/net_dns.hpp"

#include "events/network_policy.hpp"

#include <ldns/ldns.h>

#include <cstdlib>
#include <memory>

namespace runner::net {

namespace {

struct PacketFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Packet = std::unique_ptr<ldns_pkt, PacketFree>;

Packet parse(std::string_view message) {
  ldns_pkt* p = nullptr;
  if (ldns_wire2pkt(&p, reinterpret_cast<const std::uint8_t*>(message.data()), message.size()) != LDNS_STATUS_OK) {
    return nullptr;
  }
  return Packet(p);
}

std::string text_of(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  if (text == nullptr) return {};
  std::string out(text);
  std::free(text);
  return out;
}

}  // namespace

std::optional<Question> read_query(std::string_view message) {
  auto p = parse(message);
  if (!p || ldns_pkt_qr(p.get())) return std::nullopt;
  const auto* questions = ldns_pkt_question(p.get());
  if (questions == nullptr || ldns_rr_list_rr_count(questions) != 1) return std::nullopt;
  const auto* rr = ldns_rr_list_rr(questions, 0);
  Question q;
  q.name = events::network::normalize_name(text_of(ldns_rr_owner(rr)));
  q.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
  if (q.name.empty()) return std::nullopt;
  return q;
}

std::optional<Answer> read_answer(std::string_view message) {
  auto p = parse(message);
  if (!p || !ldns_pkt_qr(p.get())) return std::nullopt;
  Answer a;
  const auto* answers = ldns_pkt_answer(p.get());
  bool first = true;
  for (std::size_t i = 0; answers != nullptr && i < ldns_rr_list_rr_count(answers); ++i) {
    const auto* rr = ldns_rr_list_rr(answers, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A || ldns_rr_rd_count(rr) < 1) continue;
    const auto* rdf = ldns_rr_rdf(rr, 0);
    if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_A || ldns_rdf_size(rdf) != 4) continue;
    const auto* b = ldns_rdf_data(rdf);
    a.addresses.push_back((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3]);
    a.ttl = first ? ldns_rr_ttl(rr) : std::min(a.ttl, ldns_rr_ttl(rr));
    first = false;
  }
  return a;
}

std::string refusal(std::string_view query) {
  auto q = parse(query);
  if (!q) return {};
  Packet r(ldns_pkt_new());
  if (!r) return {};
  ldns_pkt_set_id(r.get(), ldns_pkt_id(q.get()));
  ldns_pkt_set_qr(r.get(), true);
  ldns_pkt_set_opcode(r.get(), ldns_pkt_get_opcode(q.get()));
  ldns_pkt_set_rd(r.get(), ldns_pkt_rd(q.get()));
  ldns_pkt_set_ra(r.get(), true);
  ldns_pkt_set_rcode(r.get(), LDNS_RCODE_NXDOMAIN);
  if (auto* questions = ldns_pkt_question(q.get())) {
    ldns_rr_list* copy = ldns_rr_list_clone(questions);
    ldns_pkt_push_rr_list(r.get(), LDNS_SECTION_QUESTION, copy);  // the packet owns the records now
    ldns_rr_list_free(copy);                                       // the list itself only
  }
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&wire, r.get(), &size) != LDNS_STATUS_OK || wire == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(wire), size);
  std::free(wire);
  return out;
}

}  // namespace runner::net
