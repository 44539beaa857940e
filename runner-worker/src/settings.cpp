#include "runner/settings.hpp"

namespace runner {

void declare(events::settings::Declared& d, Settings& s) {
  d.text("DATABASE_URL", s.database_url, "the PostgreSQL connection string (the subscriber's checkpoints)", true);
  d.text("ADMIN_API_KEY", s.admin_api_key, "the admin key (the runner's calls to the API; the forwarding key derives from it)", true);
  d.url("NATS_URL", s.nats_url, "the NATS server");
  d.url("API_URL", s.api_url, "the command-service API");
  d.text("RUNNER_STATE_DIR", s.state_dir, "where this runner keeps its id, data image, bundles and layers");
  d.text("RUNNER_OBJECT_STORE", s.object_store, "archives and images, shared by the machine's runners (default: objects/ beside the state dir)");
  d.text("RUNNER_DAEMON", s.daemon, "the sandbox daemon binary, PID 1 of every sandbox (default: beside this binary's build dir)");
  d.text("RUNNER_REGION", s.region, "the region this runner serves");
  d.text("RUNNER_ENDPOINT", s.endpoint, "host:port of the forwarding endpoint the edge proxy reaches sandboxes through");
  d.number("RUNNER_DISK_GIB", s.disk_gib, "size of the loop-mounted btrfs data image (sparse)", 1, 100000);
  d.number("RUNNER_MAX_SANDBOXES", s.max_sandboxes, "sandboxes this runner takes at most", 1, 100000);
  d.number("RUNNER_WORKERS", s.workers, "threads converging sandboxes", 1, 256);
  d.number("RUNNER_MEMORY_GIB", s.memory_gib, "memory offered to the scheduler (0: the host's times RUNNER_MEMORY_OVERCOMMIT)", 0, 1000000);
  d.number("RUNNER_MEMORY_OVERCOMMIT", s.memory_overcommit, "memory limits are limits, not reservations: offered = host x this", 1, 1000);
  d.number("RUNNER_DISK_OVERCOMMIT", s.disk_overcommit, "disk quotas are limits, not reservations: offered = data image x this", 1, 1000);
  d.paths("SNAPSHOT_IMPORT_DIRS", s.snapshot_import_dirs, "host directories snapshot images may be read from, as the API has them");
  d.text("RUNNER_NET_POOL", s.net_pool, "IPv4 CIDR sandbox addresses come from (e.g. 10.88.0.0/16); empty: sandboxes have loopback only");
  d.text("RUNNER_NET_UPLINK", s.net_uplink, "interface sandbox traffic leaves through (default: the default route's)");
  d.text("RUNNER_NET_GATEWAY", s.net_gateway, "when set, sandbox traffic is routed only through this next hop (its own routing table)");
  d.text("RUNNER_NET_DNS", s.net_dns, "upstream resolver ip[:port] of the sandboxes' resolver (default: /etc/resolv.conf's first)");
  d.text("RUNNER_NET_REFUSED", s.net_refused, "more IPv4 CIDRs no sandbox may reach (a remote PostgreSQL or NATS), comma-separated");
  d.number("RUNNER_HAND_OFF_WAIT_MS", s.hand_off_wait_ms, "how long a reconcile an event started waits for the API's hand-off of its target before it asks", 0, 10000);
  d.number("RUNNER_NET_MBIT_PER_CPU", s.net_mbit_per_cpu, "each sandbox's bandwidth, each way, per CPU (Mbit/s)", 1, 100000);
}

}  // namespace runner
