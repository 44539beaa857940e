#include "events/webhooks/signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <optional>
#include <stdexcept>

namespace events::webhooks {

namespace {

constexpr std::string_view kPrefix = "whsec_";

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) --size;  // EVP counts the padding
  out.resize(size);
  return out;
}

std::string mac(const std::string& key, std::string_view message_id, std::int64_t timestamp, std::string_view body) {
  std::string content;
  content.reserve(message_id.size() + body.size() + 24);
  content.append(message_id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), digest, &length);
  return base64(digest, length);
}

}  // namespace

std::string new_secret() {
  std::array<unsigned char, 24> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) throw std::runtime_error("no randomness for a secret");
  return std::string(kPrefix) + base64(bytes.data(), bytes.size());
}

Result<std::string> secret_key(std::string_view secret) {
  if (secret.substr(0, kPrefix.size()) != kPrefix) {
    return make_error(ErrorCode::invalid_argument, "a webhook secret starts with whsec_");
  }
  auto key = unbase64(secret.substr(kPrefix.size()));
  if (!key) return make_error(ErrorCode::invalid_argument, "a webhook secret is whsec_ and base64 text");
  if (key->size() < 24 || key->size() > 64) {
    return make_error(ErrorCode::invalid_argument, "a webhook secret's key is 24 to 64 bytes");
  }
  return std::move(*key);
}

Result<std::string> sign(std::string_view secret, std::string_view message_id, std::int64_t timestamp,
                         std::string_view body) {
  auto key = secret_key(secret);
  if (!key) return key.error();
  return "v1," + mac(*key, message_id, timestamp, body);
}

Result<std::vector<std::pair<std::string, std::string>>> signed_headers(const std::vector<std::string>& secrets,
                                                                        std::string_view message_id,
                                                                        std::int64_t timestamp, std::string_view body) {
  if (secrets.empty()) return make_error(ErrorCode::invalid_argument, "no secret to sign with");
  std::string signatures;
  for (const auto& s : secrets) {
    auto one = sign(s, message_id, timestamp, body);
    if (!one) return one.error();
    if (!signatures.empty()) signatures += ' ';
    signatures += *one;
  }
  const std::string id(message_id);
  const auto ts = std::to_string(timestamp);
  return std::vector<std::pair<std::string, std::string>>{
      {"webhook-id", id}, {"webhook-timestamp", ts}, {"webhook-signature", signatures},
      {"svix-id", id},    {"svix-timestamp", ts},    {"svix-signature", signatures}};
}

bool verify(std::string_view secret, std::string_view message_id, std::int64_t timestamp, std::string_view body,
            std::string_view signatures, std::int64_t now, std::int64_t tolerance_seconds) {
  if (timestamp < now - tolerance_seconds || timestamp > now + tolerance_seconds) return false;
  auto expected = sign(secret, message_id, timestamp, body);
  if (!expected) return false;
  std::size_t start = 0;
  while (start < signatures.size()) {
    const auto space = std::min(signatures.find(' ', start), signatures.size());
    const auto one = signatures.substr(start, space - start);
    if (one.size() == expected->size() && CRYPTO_memcmp(one.data(), expected->data(), one.size()) == 0) return true;
    start = space + 1;
  }
  return false;
}

}  // namespace events::webhooks
