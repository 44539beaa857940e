-- The event log, the outbox relay's progress, idempotency keys and dead letters.

create table events (
  position       bigserial primary key,
  stream         text        not null,
  version        bigint      not null,
  type           text        not null,
  schema_version int         not null,
  data           jsonb       not null,
  metadata       jsonb       not null,
  routing_key    text        not null default '',
  recorded_at    timestamptz not null default now(),
  unique (stream, version)
);
-- Two indexes only: position (the primary key) for readers of the log, (stream, version) for
-- aggregates and optimistic concurrency. Category and routing-key reads (catch-ups) scan by
-- position and filter. Stream ids are UUIDv7, so new streams land at the index's right edge.

-- Nothing in the log is ever updated or deleted.
create function events_immutable() returns trigger language plpgsql as $$
begin
  raise exception 'events are immutable (% on events refused)', tg_op;
end $$;
create trigger events_no_update before update or delete on events
  for each row execute function events_immutable();
create trigger events_no_truncate before truncate on events
  for each statement execute function events_immutable();

create table idempotency_keys (
  key            text primary key,
  request_hash   text        not null,
  stream         text        not null,
  first_position bigint      not null,
  last_position  bigint      not null,
  last_version   bigint      not null,
  created_at     timestamptz not null default now()
);

create table checkpoints (
  name       text primary key,
  position   bigint      not null,
  updated_at timestamptz not null default now()
);

create table dead_letters (
  id          bigserial primary key,
  consumer    text        not null,
  stream      text        not null,
  position    bigint      not null,
  type        text        not null,
  reason      text        not null,
  payload     text        not null,
  recorded_at timestamptz not null default now()
);
create index dead_letters_consumer on dead_letters (consumer, position);

-- Gap safety. Appenders hold this advisory lock in SHARED mode from before they draw a
-- position until they commit; shared holders never wait for each other. events_safe_head()
-- takes it EXCLUSIVELY for an instant: once granted, every transaction that drew a position
-- earlier has committed or rolled back, and every later one will draw a higher position. So
-- every event at or below the returned head is final, and a reader that never reads past it
-- never skips an event that commits late with a lower position.
create function events_safe_head() returns bigint language plpgsql volatile as $$
begin
  perform pg_advisory_xact_lock(7700001);
  return coalesce((select max(position) from events), 0);
end $$;

-- The stored result of an earlier append with this idempotency key, if there was one.
create function idempotent_result(p_idem_key text, p_request_hash text)
returns table (status text, first_position bigint, last_position bigint, last_version bigint)
language sql stable as $$
  select case when k.request_hash = p_request_hash then 'duplicate' else 'idempotency_conflict' end,
         k.first_position, k.last_position, k.last_version
  from idempotency_keys k where p_idem_key is not null and k.key = p_idem_key
$$;

-- Appends p_events (a JSON array of {type, schema_version, data, metadata}) to p_stream when
-- its current version is p_expected (-1: no stream, -2: any). One round trip, atomic.
-- status: ok | duplicate (idempotency key seen with the same request) | version_conflict |
-- idempotency_conflict (key seen with another request). A concurrent append of the same
-- version (and a create of a stream that exists) fails on the unique (stream, version) index,
-- which callers read as a version conflict.
create function append_events(p_stream text, p_expected bigint, p_events jsonb,
                              p_routing_key text, p_idem_key text, p_request_hash text,
                              out status text, out first_position bigint,
                              out last_position bigint, out last_version bigint)
language plpgsql as $$
declare
  v_current bigint := -1;
begin
  perform pg_advisory_xact_lock_shared(7700001);
  if p_idem_key is not null then
    select * into status, first_position, last_position, last_version
      from idempotent_result(p_idem_key, p_request_hash);
    if found then return; end if;
  end if;
  if p_expected <> -1 then
    select coalesce(max(e.version), -1) into v_current from events e where e.stream = p_stream;
    if p_expected <> -2 and p_expected <> v_current then
      -- The conflict may be this very request, committed by a racing twin since the check.
      if p_idem_key is not null then
        select * into status, first_position, last_position, last_version
          from idempotent_result(p_idem_key, p_request_hash);
        if found then return; end if;
      end if;
      status := 'version_conflict';
      last_version := v_current;
      return;
    end if;
  end if;
  with ins as (
    insert into events (stream, version, type, schema_version, data, metadata, routing_key)
    select p_stream, v_current + x.ord, x.value->>'type', (x.value->>'schema_version')::int,
           x.value->'data', x.value->'metadata', p_routing_key
    from jsonb_array_elements(p_events) with ordinality as x(value, ord)
    order by x.ord
    returning events.position
  )
  select min(ins.position), max(ins.position) into first_position, last_position from ins;
  last_version := v_current + jsonb_array_length(p_events);
  if p_idem_key is not null then
    insert into idempotency_keys (key, request_hash, stream, first_position, last_position, last_version)
    values (p_idem_key, p_request_hash, p_stream, first_position, last_position, last_version);
  end if;
  status := 'ok';
end $$;
