// Preview tokens (events/tokens.hpp): signed, scoped to one sandbox port, expiring, rotatable;
// and the API-key hash taken from an Authorization header (events/api_keys.hpp).
#include "events/api_keys.hpp"
#include "events/tokens.hpp"
#include "support/catch.hpp"

using namespace events;
using namespace events::tokens;

TEST_CASE("tokens: a preview token opens its sandbox port until it expires") {
  const auto ring = KeyRing::parse("k1:0123456789abcdef0123456789abcdef").value();
  const auto box = SandboxId::generate();
  const auto token = sign_preview(ring, box, 8080, 1000);
  CHECK(verify_preview(ring, token, box, 8080, 999) == 1000);
  CHECK_FALSE(verify_preview(ring, token, box, 8080, 1000));  // expired
  CHECK_FALSE(verify_preview(ring, token, box, 8081, 999));   // another port
  CHECK_FALSE(verify_preview(ring, token, SandboxId::generate(), 8080, 999));
  // Only [A-Za-z0-9._-]: header, query and cookie alike.
  CHECK(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos);
}

TEST_CASE("tokens: nothing but the key makes one") {
  const auto ring = KeyRing::parse("k1:0123456789abcdef0123456789abcdef").value();
  const auto other = KeyRing::parse("k1:fedcba9876543210fedcba9876543210").value();
  const auto box = SandboxId::generate();
  const auto token = sign_preview(ring, box, 8080, 5000);
  CHECK_FALSE(verify_preview(other, token, box, 8080, 1));
  // A changed expiry, a flipped MAC character, another version or key id, garbage: refused.
  auto later = token;
  later.replace(later.find(".5000.") + 1, 4, "9999");
  CHECK_FALSE(verify_preview(ring, later, box, 8080, 1));
  auto flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  CHECK_FALSE(verify_preview(ring, flipped, box, 8080, 1));
  for (const std::string& bad : std::vector<std::string>{"", "v1", "v1.k1.5000", "v2" + token.substr(2), "v1.zz" + token.substr(5),
                                "v1.k1.-5.abc", "v1.k1.5000.", token + "x", box.str()}) {
    INFO(bad);
    CHECK_FALSE(verify_preview(ring, bad, box, 8080, 1));
  }
}

TEST_CASE("tokens: rotation — a new key signs, the old one still verifies until removed") {
  const auto old_ring = KeyRing::parse("k1:0123456789abcdef0123456789abcdef").value();
  const auto rotated = KeyRing::parse("k2:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,k1:0123456789abcdef0123456789abcdef").value();
  const auto done = KeyRing::parse("k2:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").value();
  const auto box = SandboxId::generate();
  const auto before = sign_preview(old_ring, box, 3000, 100);
  const auto after = sign_preview(rotated, box, 3000, 100);
  CHECK(after.rfind("v1.k2.", 0) == 0);
  CHECK(verify_preview(rotated, before, box, 3000, 1));
  CHECK(verify_preview(rotated, after, box, 3000, 1));
  CHECK_FALSE(verify_preview(done, before, box, 3000, 1));
  CHECK(verify_preview(done, after, box, 3000, 1));
}

TEST_CASE("tokens: key rings and the derived keys") {
  CHECK_FALSE(KeyRing::parse(""));
  CHECK_FALSE(KeyRing::parse("nocolon"));
  CHECK_FALSE(KeyRing::parse("k1:short"));
  CHECK_FALSE(KeyRing::parse("bad id:0123456789abcdef0123456789abcdef"));
  CHECK(preview_keys("", "admin-key"));
  CHECK_FALSE(preview_keys("", ""));
  CHECK(preview_keys("k9:0123456789abcdef0123456789abcdef", "")->signing().id == "k9");
  // Derived keys: stable for a key, different for another, never the admin key itself.
  CHECK(forward_key("a") == forward_key("a"));
  CHECK(forward_key("a") != forward_key("b"));
  CHECK(forward_key("a").find("a") != 0);
  const auto box = SandboxId::generate();
  CHECK(sign_preview(*preview_keys("", "a"), box, 1, 10) != sign_preview(*preview_keys("", "b"), box, 1, 10));
}

TEST_CASE("api keys: the hash of the key in an Authorization header, and only of a bearer key") {
  const auto key = generate_api_key();
  CHECK(bearer_key_hash("Bearer " + key) == sha256_hex(key));
  CHECK(sha256_hex(key).size() == 64);
  CHECK_FALSE(bearer_key_hash("Bearer "));       // no key
  CHECK_FALSE(bearer_key_hash(""));              // no header
  CHECK_FALSE(bearer_key_hash("Basic " + key));  // another scheme
  CHECK_FALSE(bearer_key_hash("bearer " + key)); // spelt as the API has always required
  CHECK_FALSE(bearer_key_hash(key));             // the key alone
}
