#pragma once
// Input checks shared by the deciders. Each returns the first problem found, naming the field.
#include "events/catalogue/sandbox.hpp"

#include <optional>

namespace events::validate {

// Limits on what a sandbox carries into its runner and its process environment (a 900 KB env
// was once accepted and the sandbox never started).
inline constexpr std::size_t kMaxEnvVariables = 256;
inline constexpr std::size_t kMaxEnvValueBytes = std::size_t{32} * 1024;
inline constexpr std::size_t kMaxEnvBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxLabels = 64;
inline constexpr std::size_t kMaxLabelBytes = std::size_t{16} * 1024;

std::optional<Error> resources(const Resources& r);
std::optional<Error> env(const StringMap& env);
std::optional<Error> labels(const StringMap& labels);
std::optional<Error> timer(LifecycleTimer timer, int minutes);
std::optional<Error> volumes(const std::vector<VolumeMount>& volumes);
std::optional<Error> name(std::string_view field, std::string_view value);
// A sandbox's name: 1 to 63 of letters, digits, '-', '_', '.', starting with a letter or digit.
std::optional<Error> sandbox_name(std::string_view value);

}  // namespace events::validate
