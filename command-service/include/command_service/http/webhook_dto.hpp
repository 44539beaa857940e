#pragma once
// What the webhook routes answer: Svix's shapes (the fields the official `svix` client reads;
// filterTypes also as eventTypes, the name its 2.x client uses) and Daytona's webhook routes.
#include "events/http/dto.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace command_service::dto {

using events::http::Nullable;

struct SvixApplication {
  std::string id;   // the organization's id: one application per organization
  std::string uid;  // the same
  std::string name;
  std::map<std::string, std::string> metadata;
  Nullable<int> rateLimit;
  Nullable<int> throttleRate;
  std::string createdAt;
  std::string updatedAt;
};
BOOST_DESCRIBE_STRUCT(SvixApplication, (), (id, uid, name, metadata, rateLimit, throttleRate, createdAt, updatedAt))

struct SvixEndpoint {
  std::string id;
  std::string url;
  std::string description;
  Nullable<std::vector<std::string>> filterTypes;
  Nullable<std::vector<std::string>> eventTypes;
  Nullable<std::vector<std::string>> channels;
  bool disabled = false;
  Nullable<std::string> uid;
  std::map<std::string, std::string> metadata;
  int version = 1;
  Nullable<int> rateLimit;
  Nullable<int> throttleRate;
  std::string createdAt;
  std::string updatedAt;
};
BOOST_DESCRIBE_STRUCT(SvixEndpoint, (),
                      (id, url, description, filterTypes, eventTypes, channels, disabled, uid, metadata, version,
                       rateLimit, throttleRate, createdAt, updatedAt))

struct SvixEndpointList {
  std::vector<SvixEndpoint> data;
  Nullable<std::string> iterator;
  Nullable<std::string> prevIterator;
  bool done = true;
};
BOOST_DESCRIBE_STRUCT(SvixEndpointList, (), (data, iterator, prevIterator, done))

struct SvixSecret {
  std::string key;
};
BOOST_DESCRIBE_STRUCT(SvixSecret, (), (key))

struct SvixRecover {
  std::string id;
  std::string status;  // running
  std::string task;    // endpoint.recover
  std::string updatedAt;
};
BOOST_DESCRIBE_STRUCT(SvixRecover, (), (id, status, task, updatedAt))

// Daytona's GET /api/webhooks/organizations/{organizationId}/initialization-status.
struct WebhookInitialization {
  std::string organizationId;
  Nullable<std::string> svixApplicationId;
  Nullable<std::string> lastError;
  int retryCount = 0;
  std::string createdAt;
  std::string updatedAt;
};
BOOST_DESCRIBE_STRUCT(WebhookInitialization, (),
                      (organizationId, svixApplicationId, lastError, retryCount, createdAt, updatedAt))

struct WebhookPortalAccess {
  std::string url;
  std::string token;
};
BOOST_DESCRIBE_STRUCT(WebhookPortalAccess, (), (url, token))

}  // namespace command_service::dto
