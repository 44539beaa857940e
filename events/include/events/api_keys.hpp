#pragma once
// API keys: "dtn_" + 64 hex characters of randomness. Only their SHA-256 is ever stored.
#include <optional>
#include <string>
#include <string_view>

namespace events {

std::string generate_api_key();
// An SSH access token: 32 random letters and digits (it is an SSH user name, so nothing else).
std::string generate_ssh_token();
std::string sha256_hex(std::string_view text);
// The SHA-256 of the key in an Authorization header ("Bearer <key>"); none when the header is not
// that or the key is empty.
std::optional<std::string> bearer_key_hash(std::string_view authorization);
// A stable UUID for a text (ids derived from names): the first 128 bits of its SHA-256.
std::string uuid_of_text(std::string_view text);
// What a person sees to recognise a key: its first 12 characters.
std::string api_key_prefix(std::string_view key);

}  // namespace events
