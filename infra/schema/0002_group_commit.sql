-- Group commit, and appends in position order.
--
-- Gap safety, second form. 0001 let appenders hold advisory lock 7700001 SHARED until they
-- committed, and events_safe_head() took it EXCLUSIVELY for an instant: a fence that waited for
-- every append in flight and, while it waited, queued every new append behind it. With readers
-- (the relay, each projector) fencing on every poll, appends under load spent most of their time
-- waiting on fences. Now appenders take the lock EXCLUSIVELY, from before they draw a position
-- until they commit: appends commit one at a time, in position order (a commit is visible before
-- its locks are released), so every committed event is final and the highest visible position
-- is the safe head, read without any lock. The cost is one append transaction at a time, which
-- group commit pays for: the API sends its concurrent appends as one transaction (append_many,
-- below; events/store/group_commit.hpp), one WAL flush for the group.

create or replace function events_safe_head() returns bigint language sql stable as $$
  select coalesce(max(position), 0) from events
$$;

-- As in 0001, but the lock is exclusive (see above); append_together and append_many call
-- this several times in one transaction, which holds the lock once.
create or replace function append_events(p_stream text, p_expected bigint, p_events jsonb,
                                         p_routing_key text, p_idem_key text, p_request_hash text,
                                         out status text, out first_position bigint,
                                         out last_position bigint, out last_version bigint)
language plpgsql as $$
declare
  v_current bigint := -1;
begin
  perform pg_advisory_xact_lock(7700001);
  if p_idem_key is not null then
    select * into status, first_position, last_position, last_version
      from idempotent_result(p_idem_key, p_request_hash);
    if found then return; end if;
  end if;
  -- Under the lock the stream's version is final, so a create of a stream that exists (-1) is
  -- a conflict found here, not a unique violation that would fail a whole group.
  select coalesce(max(e.version), -1) into v_current from events e where e.stream = p_stream;
  if p_expected <> -2 and p_expected <> v_current then
    status := 'version_conflict';
    last_version := v_current;
    return;
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

-- Several independent appends in one call and one transaction (one round trip, one WAL
-- flush). Each append is checked and answered as append_events answers it alone: a conflict or
-- an idempotency match writes nothing for that append and the others go on. An append later in
-- the array sees the ones before it, as if they had committed first.
-- p_appends: [{stream, expected, events, routing_key, idem_key, request_hash}, ...]; the rows
-- come back in the same order (ord counts from 1).
-- The usual group (distinct streams, no idempotency keys) is checked and inserted with one
-- statement; any other goes append by append through append_events.
create function append_many(p_appends jsonb)
returns table (ord bigint, status text, first_position bigint, last_position bigint, last_version bigint)
language plpgsql as $$
declare
  a record;
begin
  perform pg_advisory_xact_lock(7700001);
  if not exists (select 1 from jsonb_array_elements(p_appends) x where x->>'idem_key' is not null)
     and (select count(distinct x->>'stream') = count(*) from jsonb_array_elements(p_appends) x) then
    return query
      with asked as (
        select x.ord, x.value->>'stream' as stream, (x.value->>'expected')::bigint as expected,
               x.value->'events' as evs, coalesce(x.value->>'routing_key', '') as routing_key
        from jsonb_array_elements(p_appends) with ordinality as x(value, ord)
      ), at_version as (
        select asked.*, coalesce((select max(e.version) from events e where e.stream = asked.stream), -1) as v
        from asked
      ), checked as (
        select at_version.*, at_version.expected in (-2, at_version.v) as fits from at_version
      ), ins as (
        insert into events (stream, version, type, schema_version, data, metadata, routing_key)
        select c.stream, c.v + y.n, y.value->>'type', (y.value->>'schema_version')::int,
               y.value->'data', y.value->'metadata', c.routing_key
        from checked c cross join lateral jsonb_array_elements(c.evs) with ordinality as y(value, n)
        where c.fits
        order by c.ord, y.n
        returning events.position, events.stream
      )
      select c.ord, case when c.fits then 'ok' else 'version_conflict' end,
             (select min(i.position) from ins i where i.stream = c.stream),
             (select max(i.position) from ins i where i.stream = c.stream),
             case when c.fits then c.v + jsonb_array_length(c.evs) else c.v end
      from checked c
      order by c.ord;
    return;
  end if;
  for a in select x.value, x.ord from jsonb_array_elements(p_appends) with ordinality as x(value, ord)
           order by x.ord loop
    return query
      select a.ord, r.status, r.first_position, r.last_position, r.last_version
      from append_events(a.value->>'stream', (a.value->>'expected')::bigint, a.value->'events',
                         coalesce(a.value->>'routing_key', ''), a.value->>'idem_key',
                         coalesce(a.value->>'request_hash', '')) r;
  end loop;
end $$;
