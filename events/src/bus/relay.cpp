#include "events/bus/relay.hpp"

#include "events/bus/hints.hpp"
#include "events/bus/subjects.hpp"
#include "events/store/pg_event_store.hpp"

#include <nats/nats.h>
#include "events/runtime.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace events::bus {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto log = events::module_logger("relay");
  return log;
}

}  // namespace

struct Relay::Impl {
  RelaySettings settings;
  std::string pg_connection;
  PgEventStore store;
  NatsClient& nats;
  jsCtx* js = nullptr;
  std::shared_ptr<Doorbell> bell = std::make_shared<Doorbell>();
  std::unique_ptr<HintListener> hints;
  std::uint64_t rings_seen = 0;
  std::int64_t checkpoint = 0;
  std::int64_t saved = 0;  // the checkpoint as last recorded
  std::chrono::steady_clock::time_point saved_at{};
  std::string stream_last_id;     // Nats-Msg-Id of the stream's last message; empty when none
  std::uint64_t stream_last_seq = 0;  // the stream's last sequence (0: empty)
  bool synced = false;
  std::mutex error_mutex;
  std::string publish_error;

  Impl(RelaySettings s, const std::string& pg, NatsClient& n)
      : settings(std::move(s)), pg_connection(pg), store(pg), nats(n) {
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = settings.publish_timeout.count();
    jo.PublishAsync.MaxPending = static_cast<int64_t>(settings.batch_size) * 2;
    jo.PublishAsync.ErrHandler = &Impl::on_publish_error;
    jo.PublishAsync.ErrHandlerClosure = this;
    if (natsConnection_JetStream(&js, nats.connection(), &jo) != NATS_OK) {
      throw std::runtime_error("relay: cannot create a JetStream context");
    }
    hints = std::make_unique<HintListener>(nats, bell);
    if (!hints->ok()) {
      logger()->warn("cannot subscribe to append hints; polling every {} ms", settings.idle_poll.count());
    }
  }
  ~Impl() {
    hints.reset();
    if (js != nullptr) jsCtx_Destroy(js);
  }

  static void on_publish_error(jsCtx*, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    std::lock_guard lock(self->error_mutex);
    if (self->publish_error.empty()) {
      self->publish_error = nats_error_text(pae->Err, pae->ErrCode);
      if (pae->ErrText != nullptr) self->publish_error += std::string(" ") + pae->ErrText;
    }
  }

  // Waits for an append hint, or at most idle_poll (hints are best effort). False when none came.
  bool wait_for_appends(std::stop_token& stop) {
    bell->wait(stop, rings_seen, settings.idle_poll);
    const auto rings = bell->rings();
    const bool rung = rings != rings_seen;
    rings_seen = rings;
    return rung;
  }

  // Waits for the next append; when none came, the relay is idle: it records its checkpoint.
  void wait_or_record(std::stop_token& stop) {
    if (wait_for_appends(stop)) return;
    if (auto saved = save_progress(); !saved) logger()->warn("cannot record the relay checkpoint: {}", saved.error().message);
  }

  // Records the checkpoint if it moved since the last save.
  Result<void> save_progress() {
    if (checkpoint == saved) return {};
    auto r = store.save_checkpoint(settings.checkpoint_name, GlobalPosition{checkpoint});
    if (r) {
      saved = checkpoint;
      saved_at = std::chrono::steady_clock::now();
    }
    return r;
  }

  // Learns where the JetStream stream really is: it may be ahead of our checkpoint (we died
  // after publishing, before recording), or behind it (the stream was lost and recreated).
  Result<void> sync_with_stream() {
    auto created = nats.ensure_stream(settings.stream);
    if (!created) return created.error();
    if (*created) logger()->warn("stream {} was missing and has been created", settings.stream.name);
    jsStreamInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&info, js, settings.stream.name.c_str(), nullptr, &jerr);
    if (s != NATS_OK) return make_error(ErrorCode::unavailable, "stream info: " + nats_error_text(s, jerr));
    const std::uint64_t last_seq = info->State.LastSeq;
    const std::uint64_t msgs = info->State.Msgs;
    jsStreamInfo_Destroy(info);
    stream_last_id.clear();
    stream_last_seq = msgs > 0 ? last_seq : 0;
    if (msgs > 0) {
      natsMsg* msg = nullptr;
      s = js_GetMsg(&msg, js, settings.stream.name.c_str(), last_seq, nullptr, &jerr);
      if (s != NATS_OK) return make_error(ErrorCode::unavailable, "get last message: " + nats_error_text(s, jerr));
      const char* id = nullptr;
      if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) stream_last_id = id;
      natsMsg_Destroy(msg);
    }
    const std::int64_t stream_last = stream_last_id.empty() ? 0 : std::stoll(stream_last_id);
    if (stream_last > checkpoint) {
      logger()->info("stream is ahead of the checkpoint ({} > {}); moving up", stream_last, checkpoint);
      checkpoint = stream_last;
      if (auto recorded = save_progress(); !recorded) return recorded.error();
    }
    return {};
  }

  Result<std::size_t> publish(const std::vector<RecordedEvent>& batch) {
    {
      std::lock_guard lock(error_mutex);
      publish_error.clear();
    }
    // Chained by stream sequence: each publish expects the one before it as the stream's last.
    // (Not by ExpectLastMsgId: the server keeps the last message id only in memory, so after a
    // nats-server restart every such publish failed with "wrong last msg ID" until we resynced
    // forever.) Only the relay publishes to the stream, so the sequence is ours to predict.
    std::string previous = stream_last_id;
    std::uint64_t seq = stream_last_seq;
    std::string failure;
    for (const auto& e : batch) {
      const std::string id = std::to_string(e.position.value());
      const std::string subject = subject_for(e);
      const std::string body = e.envelope_json();
      natsMsg* msg = nullptr;
      natsMsg_Create(&msg, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MsgId = id.c_str();
      if (seq > 0) po.ExpectLastSeq = seq;
      const natsStatus s = js_PublishMsgAsync(js, &msg, &po);
      if (s != NATS_OK) {
        if (msg != nullptr) natsMsg_Destroy(msg);
        failure = "publish: " + nats_error_text(s);
        break;
      }
      previous = id;
      ++seq;
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = settings.publish_timeout.count();
    const natsStatus done = js_PublishAsyncComplete(js, &wait);
    if (failure.empty() && done != NATS_OK) failure = "waiting for acks: " + nats_error_text(done);
    {
      std::lock_guard lock(error_mutex);
      if (failure.empty() && !publish_error.empty()) failure = publish_error;
    }
    if (!failure.empty()) {
      natsMsgList pending;
      if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK) natsMsgList_Destroy(&pending);
      return make_error(ErrorCode::unavailable, failure);
    }
    stream_last_id = previous;
    stream_last_seq = seq;
    return batch.size();
  }
};

Relay::Relay(RelaySettings settings, const std::string& pg_connection, NatsClient& nats)
    : impl_(std::make_unique<Impl>(std::move(settings), pg_connection, nats)) {}

Relay::~Relay() = default;

void Relay::run(std::stop_token stop) {
  auto& m = *impl_;
  auto loaded = m.store.load_checkpoint(m.settings.checkpoint_name);
  while (!loaded && !stop.stop_requested()) {
    logger()->warn("cannot read the relay checkpoint: {}", loaded.error().message);
    nap(stop, m.settings.max_backoff);
    loaded = m.store.load_checkpoint(m.settings.checkpoint_name);
  }
  if (!loaded) return;
  m.checkpoint = loaded->value();
  m.saved = m.checkpoint;
  position_ = m.checkpoint;
  std::chrono::milliseconds backoff{50};
  auto fail = [&](const std::string& what) {
    logger()->warn("{}; retrying in {} ms", what, backoff.count());
    nap(stop, backoff);
    backoff = std::min(backoff * 2, m.settings.max_backoff);
  };

  while (!stop.stop_requested()) {
    if (!m.synced) {
      if (auto synced = m.sync_with_stream(); !synced) {
        fail("cannot reach the stream: " + synced.error().message);
        continue;
      }
      m.synced = true;
      position_ = m.checkpoint;
    }
    m.rings_seen = m.bell->rings();  // a hint from here on may be for an event this read misses
    auto batch = m.store.read_all(GlobalPosition{m.checkpoint}, m.settings.batch_size);
    if (!batch) {
      fail("cannot read the log: " + batch.error().message);
      continue;
    }
    if (batch->empty()) {
      m.wait_or_record(stop);
      continue;
    }
    auto sent = m.publish(*batch);
    if (!sent) {
      m.synced = false;
      fail("publish failed: " + sent.error().message);
      continue;
    }
    m.checkpoint = batch->back().position.value();
    published_ += static_cast<std::int64_t>(*sent);
    position_ = m.checkpoint;
    if (std::chrono::steady_clock::now() - m.saved_at >= m.settings.checkpoint_every) {
      if (auto saved = m.save_progress(); !saved) {
        // The stream has the events; the next sync moves the checkpoint up from the stream.
        m.synced = false;
        fail("cannot record the relay checkpoint: " + saved.error().message);
        continue;
      }
    }
    backoff = std::chrono::milliseconds{50};
    // A batch short of full read the whole log: wait for the next hint rather than read again.
    if (batch->size() < m.settings.batch_size) m.wait_or_record(stop);
  }
  if (auto saved = m.save_progress(); !saved) logger()->warn("cannot record the relay checkpoint at exit: {}", saved.error().message);
}

}  // namespace events::bus
