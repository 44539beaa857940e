#pragma once
// Input checks shared by the deciders. Each returns the first problem found, naming the field.
#include "events/catalogue/sandbox.hpp"

#include <optional>

namespace events::validate {

std::optional<Error> resources(const Resources& r);
std::optional<Error> env(const StringMap& env);
std::optional<Error> labels(const StringMap& labels);
std::optional<Error> timer(LifecycleTimer timer, int minutes);
std::optional<Error> volumes(const std::vector<VolumeMount>& volumes);
std::optional<Error> name(std::string_view field, std::string_view value);

}  // namespace events::validate
