#include "events/bus/subscriber.hpp"

#include "events/bus/subjects.hpp"
#include "events/store/pg_event_store.hpp"

#include <nats/nats.h>
#include "events/runtime.hpp"

#include <spdlog/spdlog.h>

#include <optional>
#include <thread>

namespace events::bus {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto log = events::module_logger("subscriber");
  return log;
}

}  // namespace

struct Subscriber::Impl {
  SubscriberSettings settings;
  PgEventStore store;
  NatsClient& nats;
  Handler handler;
  SubscriberStats& stats;
  natsSubscription* sub = nullptr;
  std::int64_t last = 0;   // position of the last event handled (or dead-lettered)
  std::int64_t saved = 0;  // what the checkpoint table says
  std::string checkpoint_key;
  std::string subject;

  Impl(SubscriberSettings s, const std::string& pg, NatsClient& n, Handler h, SubscriberStats& st)
      : settings(std::move(s)), store(pg), nats(n), handler(std::move(h)), stats(st) {
    checkpoint_key = "subscriber:" + settings.name;
    subject = filter_subject(settings.filter);
  }
  ~Impl() { unsubscribe(); }

  jsCtx* js() { return nats.jetstream(); }
  const char* stream() const { return settings.stream.name.c_str(); }

  void unsubscribe() {
    stats.live = false;
    if (sub == nullptr) return;
    natsSubscription_Destroy(sub);
    sub = nullptr;
  }

  // Hands one event to the handler. Returns false when the handler wants it again later.
  bool dispatch(const RecordedEvent& e) {
    if (e.position.value() <= last) {
      ++stats.duplicates_dropped;
      return true;
    }
    HandleResult r;
    try {
      r = handler(e);
    } catch (const std::exception& ex) {
      r = {Outcome::retry, std::string("handler threw: ") + ex.what()};
    }
    switch (r.outcome) {
      case Outcome::done:
        ++stats.handled;
        break;
      case Outcome::poison:
        if (auto dl = store.record_dead_letter(settings.name, e, r.reason); !dl) {
          logger()->warn("cannot record dead letter at {}: {}", e.position.value(), dl.error().message);
          return false;
        }
        logger()->warn("dead letter: {} at position {} of {}: {}", e.type, e.position.value(), e.stream, r.reason);
        ++stats.dead_lettered;
        break;
      case Outcome::retry:
        logger()->info("handler asked to retry position {}: {}", e.position.value(), r.reason);
        return false;
    }
    last = e.position.value();
    stats.position = last;
    return true;
  }

  Result<void> save_checkpoint() {
    if (last == saved) return {};
    auto r = store.save_checkpoint(checkpoint_key, GlobalPosition{last});
    if (r) saved = last;
    return r;
  }

  // Is the live path still gap-free? False when the consumer or stream is gone, or when the
  // stream dropped messages (retention) the consumer had not reached yet.
  Result<bool> healthy() {
    auto ensured = nats.ensure_stream(settings.stream);
    if (!ensured) return ensured.error();
    if (*ensured) return false;  // the stream was lost and has just been recreated
    jsErrCode jerr = static_cast<jsErrCode>(0);
    jsStreamInfo* si = nullptr;
    natsStatus s = js_GetStreamInfo(&si, js(), stream(), nullptr, &jerr);
    if (s != NATS_OK) return make_error(ErrorCode::unavailable, "stream info: " + nats_error_text(s, jerr));
    const std::uint64_t first_seq = si->State.FirstSeq;
    const std::uint64_t msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    jsConsumerInfo* ci = nullptr;
    s = js_GetConsumerInfo(&ci, js(), stream(), settings.name.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND) return false;
    if (s != NATS_OK) return make_error(ErrorCode::unavailable, "consumer info: " + nats_error_text(s, jerr));
    const std::uint64_t delivered = ci->Delivered.Stream;
    jsConsumerInfo_Destroy(ci);
    if (msgs > 0 && delivered + 1 < first_seq) {
      logger()->warn("consumer {} fell behind retention (delivered up to {}, stream starts at {})",
                     settings.name, delivered, first_seq);
      return false;
    }
    return true;
  }

  std::optional<std::int64_t> position_at(std::uint64_t seq) {
    natsMsg* msg = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    if (js_GetMsg(&msg, js(), stream(), seq, nullptr, &jerr) != NATS_OK) return std::nullopt;
    const char* id = nullptr;
    std::optional<std::int64_t> out;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) {
      try {
        out = std::stoll(id);
      } catch (const std::exception&) {
      }
    }
    natsMsg_Destroy(msg);
    return out;
  }

  // The first stream sequence whose event comes after `after` (the stream is in position
  // order, so a binary search finds it).
  Result<std::uint64_t> start_sequence_after(std::int64_t after) {
    jsErrCode jerr = static_cast<jsErrCode>(0);
    jsStreamInfo* si = nullptr;
    natsStatus s = js_GetStreamInfo(&si, js(), stream(), nullptr, &jerr);
    if (s != NATS_OK) return make_error(ErrorCode::unavailable, "stream info: " + nats_error_text(s, jerr));
    std::uint64_t lo = si->State.FirstSeq;
    std::uint64_t hi = si->State.LastSeq + 1;
    const bool empty = si->State.Msgs == 0;
    jsStreamInfo_Destroy(si);
    if (empty) return hi;
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      const auto pos = position_at(mid);
      if (pos && *pos > after) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  Result<void> subscribe(std::optional<std::uint64_t> start_seq) {
    unsubscribe();
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream();
    so.ManualAck = true;
    if (start_seq) {
      so.Config.Durable = settings.name.c_str();
      so.Config.DeliverPolicy = js_DeliverByStartSequence;
      so.Config.OptStartSeq = *start_seq;
      so.Config.AckPolicy = js_AckExplicit;
      so.Config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(settings.ack_wait).count();
      so.Config.MaxAckPending = settings.batch * 4;
    } else {
      so.Consumer = settings.name.c_str();
    }
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_PullSubscribe(&sub, js(), subject.c_str(), settings.name.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK) {
      sub = nullptr;
      return make_error(ErrorCode::unavailable, "pull subscribe: " + nats_error_text(s, jerr));
    }
    stats.live = true;
    return {};
  }

  // Catches up from PostgreSQL, then rejoins the stream right after what it handled.
  Result<void> resync(std::stop_token& stop) {
    unsubscribe();
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus d = js_DeleteConsumer(js(), stream(), settings.name.c_str(), nullptr, &jerr);
    if (d != NATS_OK && d != NATS_NOT_FOUND) {
      return make_error(ErrorCode::unavailable, "delete consumer: " + nats_error_text(d, jerr));
    }
    ++stats.catch_ups;
    while (!stop.stop_requested()) {
      auto batch = store.read_all(GlobalPosition{last}, 500, settings.filter);
      if (!batch) return batch.error();
      if (batch->empty()) break;
      for (const auto& e : *batch) {
        const bool fresh = e.position.value() > last;
        while (!dispatch(e)) {
          nap(stop, settings.retry_delay);
          if (stop.stop_requested()) return make_error(ErrorCode::unavailable, "stopped");
        }
        if (fresh) ++stats.caught_up_events;
      }
      if (auto saved_ok = save_checkpoint(); !saved_ok) return saved_ok.error();
    }
    logger()->info("{} caught up from PostgreSQL to position {}", settings.name, last);
    auto start = start_sequence_after(last);
    if (!start) return start.error();
    return subscribe(*start);
  }

  // Dead-letters a message that is not an envelope at all. False when that could not be done.
  bool dead_letter_unreadable(natsMsg* msg, std::string_view body, const std::string& why) {
    RecordedEvent garbage;
    const char* id = nullptr;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) {
      try {
        garbage.position = GlobalPosition{std::stoll(id)};
      } catch (const std::exception&) {
      }
    }
    garbage.stream = natsMsg_GetSubject(msg);
    garbage.type = "(unreadable envelope)";
    garbage.data = std::string(body.substr(0, 65536));
    if (!store.record_dead_letter(settings.name, garbage, why)) return false;
    ++stats.dead_lettered;
    logger()->warn("dead letter: unreadable message on {}: {}", garbage.stream, why);
    return true;
  }

  // Handles one fetched message. A retry is done here, in place, so that nothing after the
  // message is handled before it (JetStream would redeliver it after newer messages).
  // Returns false when stopped before the message was done; it is then left unacked.
  bool handle_message(natsMsg* msg, std::stop_token& stop) {
    const std::string_view body(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    auto event = RecordedEvent::from_envelope_json(body);
    while (true) {
      const bool done = event ? dispatch(*event) : dead_letter_unreadable(msg, body, event.error().message);
      if (done) {
        natsMsg_Ack(msg, nullptr);
        return true;
      }
      nap(stop, settings.retry_delay);
      if (stop.stop_requested()) return false;
      natsMsg_InProgress(msg, nullptr);  // we are still on it: do not redeliver yet
    }
  }
};

Subscriber::Subscriber(SubscriberSettings settings, const std::string& pg_connection,
                       NatsClient& nats, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(settings), pg_connection, nats, std::move(handler), stats_)) {}

Subscriber::~Subscriber() = default;

void Subscriber::run(std::stop_token stop) {
  auto& m = *impl_;
  auto loaded = m.store.load_checkpoint(m.checkpoint_key);
  while (!loaded && !stop.stop_requested()) {
    logger()->warn("cannot read checkpoint of {}: {}", m.settings.name, loaded.error().message);
    nap(stop, std::chrono::milliseconds(500));
    loaded = m.store.load_checkpoint(m.checkpoint_key);
  }
  if (!loaded) return;
  m.last = m.saved = loaded->value();
  stats_.position = m.last;

  std::chrono::milliseconds backoff{50};
  auto fail = [&](const std::string& what) {
    logger()->warn("{}: {}; retrying in {} ms", m.settings.name, what, backoff.count());
    m.unsubscribe();
    nap(stop, backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  };
  auto next_check = std::chrono::steady_clock::now();

  while (!stop.stop_requested()) {
    if (m.sub == nullptr || std::chrono::steady_clock::now() >= next_check) {
      auto ok = m.healthy();
      if (!ok) {
        fail(ok.error().message);
        continue;
      }
      Result<void> joined;
      if (!*ok) {
        joined = m.resync(stop);
      } else if (m.sub == nullptr) {
        joined = m.subscribe(std::nullopt);
      }
      if (!joined) {
        fail(joined.error().message);
        continue;
      }
      next_check = std::chrono::steady_clock::now() + m.settings.check_every;
    }

    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = natsSubscription_Fetch(&list, m.sub, m.settings.batch,
                                                m.settings.fetch_wait.count(), &jerr);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      natsMsgList_Destroy(&list);
      next_check = std::chrono::steady_clock::now();  // look at what went wrong before fetching again
      fail("fetch: " + nats_error_text(s, jerr));
      continue;
    }
    for (int i = 0; i < list.Count && m.handle_message(list.Msgs[i], stop); ++i) {
    }
    natsMsgList_Destroy(&list);
    if (auto saved = m.save_checkpoint(); !saved) {
      logger()->warn("cannot save checkpoint of {}: {}", m.settings.name, saved.error().message);
    }
    backoff = std::chrono::milliseconds{50};
  }
  if (auto saved = m.save_checkpoint(); !saved) {
    logger()->warn("cannot save checkpoint of {} at exit: {}", m.settings.name, saved.error().message);
  }
}

}  // namespace events::bus
