#pragma once
// Standard Webhooks (v1) signatures, as Svix makes them, so a consumer's existing Svix or
// standardwebhooks verification code works unchanged:
//   webhook-id         the message id, the same on every retry
//   webhook-timestamp  Unix seconds of this attempt
//   webhook-signature  "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>", one per
//                      secret in force, space-separated (two during a rotation)
// and the same values again as svix-id, svix-timestamp, svix-signature. A secret is "whsec_"
// followed by the base64 of its key bytes.
#include "events/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace events::webhooks {

// A new secret: "whsec_" + base64 of 24 random bytes.
std::string new_secret();

// The key bytes of a secret, or an error saying what is wrong with it.
Result<std::string> secret_key(std::string_view secret);

// One signature ("v1,<base64>") of a delivery.
Result<std::string> sign(std::string_view secret, std::string_view message_id, std::int64_t timestamp,
                         std::string_view body);

// The six headers of a delivery signed with every secret in `secrets` (the current one first).
Result<std::vector<std::pair<std::string, std::string>>> signed_headers(const std::vector<std::string>& secrets,
                                                                        std::string_view message_id,
                                                                        std::int64_t timestamp, std::string_view body);

// Whether `signatures` (a header value) holds a valid signature of the delivery by `secret`, and
// `timestamp` is within `tolerance_seconds` of `now` (what a consumer checks).
bool verify(std::string_view secret, std::string_view message_id, std::int64_t timestamp, std::string_view body,
            std::string_view signatures, std::int64_t now, std::int64_t tolerance_seconds = 300);

}  // namespace events::webhooks
