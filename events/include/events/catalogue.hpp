#pragma once
// The whole event catalogue: one variant per aggregate.
#include "events/catalogue/organization.hpp"
#include "events/catalogue/runner.hpp"
#include "events/catalogue/sandbox.hpp"
#include "events/catalogue/sandbox_name.hpp"
#include "events/catalogue/snapshot.hpp"
#include "events/catalogue/ssh_access.hpp"
#include "events/catalogue/volume.hpp"
#include "events/catalogue/warm_pool.hpp"
#include "events/catalogue/webhook.hpp"
#include "events/codec.hpp"
