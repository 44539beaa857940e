#include "events/tokens.hpp"

#include "events/api_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <charconv>
#include <chrono>

namespace events::tokens {

namespace {

constexpr std::size_t kMacBytes = 16;
constexpr std::string_view kVersion = "v1";

bool valid_key_id(std::string_view id) {
  if (id.empty() || id.size() > 16) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

std::string base64url(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(written));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (auto& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::string mac(const SigningKey& key, const SandboxId& sandbox, int port, std::int64_t expires) {
  const std::string message = "preview\n" + sandbox.str() + "\n" + std::to_string(port) + "\n" + std::to_string(expires);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.secret.data(), static_cast<int>(key.secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return base64url(digest, std::min<std::size_t>(kMacBytes, length));
}

}  // namespace

Result<KeyRing> KeyRing::of(std::vector<SigningKey> keys) {
  if (keys.empty()) return make_error(ErrorCode::invalid_argument, "the key ring has no key");
  for (const auto& k : keys) {
    if (!valid_key_id(k.id)) {
      return make_error(ErrorCode::invalid_argument,
                        "key id '" + k.id + "' must be 1 to 16 of letters, digits, '_' and '-'");
    }
    if (k.secret.size() < 16) {
      return make_error(ErrorCode::invalid_argument, "the secret of key '" + k.id + "' is shorter than 16 bytes");
    }
  }
  KeyRing ring;
  ring.keys_ = std::move(keys);
  return ring;
}

Result<KeyRing> KeyRing::parse(std::string_view text) {
  std::vector<SigningKey> keys;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) {
      return make_error(ErrorCode::invalid_argument, "a key ring entry must be id:secret");
    }
    keys.push_back(SigningKey{std::string(item.substr(0, colon)), std::string(item.substr(colon + 1))});
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return of(std::move(keys));
}

const SigningKey* KeyRing::find(std::string_view id) const {
  for (const auto& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

std::string sign_preview(const KeyRing& keys, const SandboxId& sandbox, int port, std::int64_t expires_unix) {
  const auto& key = keys.signing();
  return std::string(kVersion) + "." + key.id + "." + std::to_string(expires_unix) + "." +
         mac(key, sandbox, port, expires_unix);
}

std::optional<std::int64_t> verify_preview(const KeyRing& keys, std::string_view token, const SandboxId& sandbox,
                                           int port, std::int64_t now_unix) {
  std::string_view parts[4];
  for (int i = 0; i < 4; ++i) {
    const auto dot = token.find('.');
    if (i < 3 && dot == std::string_view::npos) return std::nullopt;
    parts[i] = token.substr(0, i < 3 ? dot : token.size());
    token.remove_prefix(i < 3 ? dot + 1 : token.size());
  }
  if (parts[0] != kVersion) return std::nullopt;
  const auto* key = keys.find(parts[1]);
  if (key == nullptr) return std::nullopt;
  std::int64_t expires = 0;
  const auto [end, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), expires);
  if (ec != std::errc{} || end != parts[2].data() + parts[2].size() || expires <= now_unix) return std::nullopt;
  const auto expected = mac(*key, sandbox, port, expires);
  if (expected.size() != parts[3].size() || CRYPTO_memcmp(expected.data(), parts[3].data(), expected.size()) != 0) {
    return std::nullopt;
  }
  return expires;
}

Result<KeyRing> preview_keys(std::string_view configured, std::string_view admin_key) {
  if (!configured.empty()) return KeyRing::parse(configured);
  if (admin_key.empty()) return make_error(ErrorCode::invalid_argument, "neither PREVIEW_KEYS nor ADMIN_API_KEY is set");
  return KeyRing::of({SigningKey{"a1", sha256_hex("preview-key:" + sha256_hex(admin_key))}});
}

std::string forward_key(std::string_view admin_key) { return sha256_hex("forward-key:" + sha256_hex(admin_key)); }

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace events::tokens
