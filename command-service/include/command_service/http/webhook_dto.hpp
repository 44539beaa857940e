#pragma once
// What the webhook routes answer: Svix's shapes (the fields the official `svix` client reads;
// filterTypes also as eventTypes, the name its 2.x client uses) and Daytona's webhook routes.
#include "events/http/dto.hpp"

#include <cstdint>
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

struct SvixMessage {
  std::string id;
  std::string eventType;
  boost::json::value payload;
  Nullable<std::string> eventId;
  Nullable<std::vector<std::string>> channels;
  Nullable<std::vector<std::string>> tags;
  std::string timestamp;
};
BOOST_DESCRIBE_STRUCT(SvixMessage, (), (id, eventType, payload, eventId, channels, tags, timestamp))

struct SvixMessageList {
  std::vector<SvixMessage> data;
  Nullable<std::string> iterator;
  Nullable<std::string> prevIterator;
  bool done = true;
};
BOOST_DESCRIBE_STRUCT(SvixMessageList, (), (data, iterator, prevIterator, done))

// One delivery attempt. status: 0 success, 2 fail (Svix's MessageStatus); triggerType: 0
// scheduled, 1 manual.
struct SvixAttempt {
  std::string id;
  std::string msgId;
  std::string endpointId;
  std::string url;
  std::string response;
  int responseStatusCode = 0;
  std::int64_t responseDurationMs = 0;
  int status = 0;
  std::string statusText;
  int triggerType = 0;
  std::string timestamp;
};
BOOST_DESCRIBE_STRUCT(SvixAttempt, (),
                      (id, msgId, endpointId, url, response, responseStatusCode, responseDurationMs, status, statusText,
                       triggerType, timestamp))

struct SvixAttemptList {
  std::vector<SvixAttempt> data;
  Nullable<std::string> iterator;
  Nullable<std::string> prevIterator;
  bool done = true;
};
BOOST_DESCRIBE_STRUCT(SvixAttemptList, (), (data, iterator, prevIterator, done))

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
