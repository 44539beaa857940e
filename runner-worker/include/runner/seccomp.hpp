#pragma once
// The sandboxes' seccomp filter, compiled once with libseccomp and handed to crun as BPF
// (annotation run.oci.seccomp_bpf_data): crun compiling the same rules from config.json cost
// about 20 ms per create (measured on this kind of host).
//
// An allow-list, as Docker's default profile is: every syscall libseccomp knows for x86-64
// except the refused set below is allowed; anything else (including syscalls newer than
// libseccomp) fails with EPERM. clone may not create namespaces; clone3 answers ENOSYS so
// that libc falls back to clone; personality takes only Docker's values.
#include "events/error.hpp"

#include <string>
#include <vector>

namespace runner {

// The syscalls refused in every sandbox (Docker's blocked list and newer ones of the kind).
const std::vector<std::string>& refused_syscalls();

// The filter as classic BPF, base64-encoded for the annotation.
events::Result<std::string> seccomp_bpf_base64();

}  // namespace runner
