#pragma once
// Preview tokens: HMAC-SHA256 signatures by a platform key over (purpose, sandbox, port, expiry).
// Nothing is stored and nothing is derivable from ids: without the key no token can be made, a
// token opens one port of one sandbox until it expires, and rotating the key ring (a new key
// first, the old one kept for verifying until its tokens expire) needs no migration.
//
// Text form: "v1.<key id>.<expiry, unix seconds>.<first 128 bits of the MAC, base64url>" — only
// [A-Za-z0-9._-], so it travels in a header, a query parameter and a cookie unchanged.
#include "events/error.hpp"
#include "events/ids.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace events::tokens {

struct SigningKey {
  std::string id;      // [A-Za-z0-9_-], 1 to 16 characters
  std::string secret;  // at least 16 bytes
};

class KeyRing {
 public:
  // "id:secret[,id:secret...]": the first key signs, every key verifies.
  static Result<KeyRing> parse(std::string_view text);
  static Result<KeyRing> of(std::vector<SigningKey> keys);
  const SigningKey& signing() const { return keys_.front(); }
  const SigningKey* find(std::string_view id) const;

 private:
  std::vector<SigningKey> keys_;
};

std::string sign_preview(const KeyRing& keys, const SandboxId& sandbox, int port, std::int64_t expires_unix);

// The token's expiry when it was signed by a key of the ring for this sandbox and port and has
// not expired at `now_unix`; nothing otherwise (compared in constant time).
std::optional<std::int64_t> verify_preview(const KeyRing& keys, std::string_view token, const SandboxId& sandbox,
                                           int port, std::int64_t now_unix);

std::int64_t unix_now();

// The platform's keys when the operator names none: derived from the admin key, so every service
// that holds it (API, proxy, runners) agrees without another secret to distribute.
//  - preview keys: PREVIEW_KEYS ("id:secret,...") when set, else one key derived from it;
//  - the forwarding key that runners ask of whoever opens a connection into a sandbox.
Result<KeyRing> preview_keys(std::string_view configured, std::string_view admin_key);
std::string forward_key(std::string_view admin_key);

}  // namespace events::tokens
