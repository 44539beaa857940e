#include "events/bus/nats_client.hpp"
#include "events/bus/hand_offs.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

namespace events::bus {

std::string nats_error_text(int status, int js_error_code) {
  std::string text = natsStatus_GetText(static_cast<natsStatus>(status));
  if (js_error_code != 0) text += " (JetStream error " + std::to_string(js_error_code) + ")";
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0') text += ": " + std::string(last);
  return text;
}

Result<std::unique_ptr<NatsClient>> NatsClient::connect(const std::string& url,
                                                        const std::string& name) {
  std::unique_ptr<NatsClient> client(new NatsClient());
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetName(opts, name.c_str());
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, 100);
  natsOptions_SetTimeout(opts, 2000);
  natsOptions_SetRetryOnFailedConnect(opts, true, nullptr, nullptr);
  // Each publish is written at once: otherwise it waits for the client's flusher thread, which
  // wakes on the next millisecond (0-1 ms per hop; an append reaches a subscriber in two hops).
  natsOptions_SetSendAsap(opts, true);
  natsStatus s = natsConnection_Connect(&client->nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    return make_error(ErrorCode::unavailable, "NATS connect to " + url + ": " + nats_error_text(s));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 3000;
  jo.PublishAsync.MaxPending = 1024;
  s = natsConnection_JetStream(&client->js_, client->nc_, &jo);
  if (s != NATS_OK) {
    return make_error(ErrorCode::unavailable, "JetStream context: " + nats_error_text(s));
  }
  return client;
}

NatsClient::~NatsClient() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
}

Result<std::string> NatsClient::request(const std::string& subject, std::string_view body,
                                        std::chrono::milliseconds timeout) {
  natsMsg* reply = nullptr;
  const natsStatus s = natsConnection_Request(&reply, nc_, subject.c_str(), body.data(), static_cast<int>(body.size()),
                                              static_cast<std::int64_t>(timeout.count()));
  if (s != NATS_OK) return make_error(ErrorCode::unavailable, "no answer on " + subject + ": " + nats_error_text(s));
  std::string text(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return text;
}

// One queue subscription; its handler lives as long as the subscription.
class NatsClient::Service final : public Requests::Serving {
 public:
  Service() = default;
  ~Service() override;
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  Handler handler_;
  natsSubscription* sub_ = nullptr;
};

namespace {

void answer(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
  const auto& handler = *static_cast<NatsClient::Handler*>(closure);
  const std::string subject = natsMsg_GetSubject(msg);
  const std::string_view body(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  const auto reply = handler(subject, body);
  if (const char* inbox = natsMsg_GetReply(msg); inbox != nullptr) {
    natsConnection_Publish(nc, inbox, reply.data(), static_cast<int>(reply.size()));
  }
  natsMsg_Destroy(msg);
}

}  // namespace

Result<std::unique_ptr<Requests::Serving>> NatsClient::serve(const std::string& subject, const std::string& queue,
                                                             Handler handler) {
  auto service = std::make_unique<Service>();
  service->handler_ = std::move(handler);
  const natsStatus s =
      natsConnection_QueueSubscribe(&service->sub_, nc_, subject.c_str(), queue.c_str(), &answer, &service->handler_);
  if (s != NATS_OK) {
    service->sub_ = nullptr;
    return make_error(ErrorCode::unavailable, "cannot subscribe to " + subject + ": " + nats_error_text(s));
  }
  return std::unique_ptr<Serving>(std::move(service));
}

NatsClient::Service::~Service() {
  if (sub_ == nullptr) return;
  natsSubscription_Drain(sub_);
  natsSubscription_WaitForDrainCompletion(sub_, 5000);
  natsSubscription_Destroy(sub_);
}

bool NatsClient::connected() const {
  return nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

Result<bool> NatsClient::ensure_stream(const StreamSettings& settings) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char* subjects[] = {settings.subjects.c_str()};
  cfg.Name = settings.name.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.MaxMsgs = settings.max_msgs;
  cfg.MaxAge = settings.max_age_seconds * 1'000'000'000LL;
  cfg.Duplicates = settings.duplicate_window_seconds * 1'000'000'000LL;
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, settings.name.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    const bool same = info->Config->MaxMsgs == cfg.MaxMsgs && info->Config->MaxAge == cfg.MaxAge &&
                      info->Config->Duplicates == cfg.Duplicates;
    jsStreamInfo_Destroy(info);
    if (same) return false;
    s = js_UpdateStream(&info, js_, &cfg, nullptr, &jerr);
    if (s != NATS_OK) {
      return make_error(ErrorCode::unavailable, "update stream " + settings.name + ": " + nats_error_text(s, jerr));
    }
    jsStreamInfo_Destroy(info);
    return false;
  }
  if (s != NATS_NOT_FOUND) {
    return make_error(ErrorCode::unavailable, "stream info " + settings.name + ": " + nats_error_text(s, jerr));
  }
  s = js_AddStream(&info, js_, &cfg, nullptr, &jerr);
  if (s != NATS_OK) {
    return make_error(ErrorCode::unavailable, "add stream " + settings.name + ": " + nats_error_text(s, jerr));
  }
  jsStreamInfo_Destroy(info);
  return true;
}

void NatsClient::publish(const std::string& subject, std::string_view data) {
  natsConnection_Publish(nc_, subject.c_str(), data.data(), static_cast<int>(data.size()));
}

void drop_hand_off(const Error& why) { spdlog::warn("{}", why.message); }

namespace {

void on_core_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  const std::string_view data(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  (*static_cast<CoreSubscription::OnMessage*>(closure))(data);
  natsMsg_Destroy(msg);
}

}  // namespace

CoreSubscription::CoreSubscription(NatsClient& nats, const char* subject, OnMessage on_message)
    : on_message_(std::move(on_message)) {
  if (natsConnection_Subscribe(&sub_, nats.connection(), subject, &on_core_message, &on_message_) != NATS_OK) {
    sub_ = nullptr;
  }
}

CoreSubscription::~CoreSubscription() {
  if (sub_ == nullptr) return;
  natsSubscription_Drain(sub_);
  natsSubscription_WaitForDrainCompletion(sub_, 2000);
  natsSubscription_Destroy(sub_);
}

}  // namespace events::bus
