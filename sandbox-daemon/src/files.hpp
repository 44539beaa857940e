#pragma once
// Shared by the file routes (file_routes.cpp) and the bulk transfers (file_transfer.cpp).
#include "daemon/toolbox.hpp"

namespace daemon_tb {

// An errno as the daemon's error reply: FILE_NOT_FOUND, FILE_ACCESS_DENIED, INVALID_FILE_PATH, ...
Reply errno_reply(const Call& call, int err, const std::string& path);
asio::awaitable<Reply> bulk_upload(Call& call, Toolbox& tb);
asio::awaitable<Reply> bulk_download(Call& call, Toolbox& tb);

}  // namespace daemon_tb
