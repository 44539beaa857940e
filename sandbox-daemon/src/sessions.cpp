#include "daemon/sessions.hpp"
#include "daemon/bounded_output.hpp"

#include "daemon/toolbox.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace daemon_tb {

namespace fs = std::filesystem;

namespace {

constexpr char kMarker = '\036';  // record separator: starts the daemon's marker lines

}  // namespace

Sessions::Sessions(asio::io_context& io, Children& children, std::string work_dir, std::string root_dir)
    : io_(io), children_(children), work_dir_(std::move(work_dir)), root_(std::move(root_dir)) {}

std::optional<std::string> Sessions::create(const std::string& id) {
  if (id.empty() || id.size() > 200 || id.find('/') != std::string::npos || id == "." || id == "..") {
    return "sessionId must be 1 to 200 characters without '/'";
  }
  if (sessions_.count(id) != 0) return "session " + id + " already exists";
  std::error_code ec;
  fs::create_directories(root_ + "/" + id, ec);
  if (ec) return "cannot create the session's directory: " + ec.message();
  // -s: commands from stdin; bash without job control or prompts.
  SpawnSpec spec{{shell(), "-s"}, {}, work_dir_, true};
  spec.is_activity = false;  // an idle shell is no activity; its running commands are (busy())
  auto spawned = children_.spawn(spec);
  if (spawned.pid < 0) return "cannot start the session's shell: " + spawned.error;
  auto s = std::make_shared<Session>();
  s->id = id;
  s->shell = spawned.pid;
  s->stdin_fd = spawned.stdin_fd;
  s->markers = std::make_unique<asio::posix::stream_descriptor>(io_, spawned.output_fd);
  sessions_[id] = s;
  std::weak_ptr<Session> weak = s;
  children_.on_exit(spawned.pid, [this, weak](int status) {
    auto session = weak.lock();
    if (!session) return;
    session->ended = true;
    for (auto& c : session->commands) {
      if (!c->exit_code) finish(*session, c->id, exit_code_of(status));
    }
  });
  read_markers(s);
  return std::nullopt;
}

void Sessions::read_markers(std::shared_ptr<Session> s) {
  auto buffer = std::make_shared<std::array<char, 4096>>();
  s->markers->async_read_some(asio::buffer(*buffer), [this, s, buffer](const boost::system::error_code& ec, std::size_t n) {
    s->pending.append(buffer->data(), n);
    std::size_t nl;
    while ((nl = s->pending.find('\n')) != std::string::npos) {
      const auto line = s->pending.substr(0, nl);
      s->pending.erase(0, nl + 1);
      const auto at = line.find(kMarker);
      if (at == std::string::npos) continue;
      // "\036done <id> <code>"
      const auto fields = line.substr(at + 1);
      const auto first = fields.find(' ');
      const auto second = fields.find(' ', first + 1);
      if (first == std::string::npos || second == std::string::npos || fields.substr(0, first) != "done") continue;
      try {
        finish(*s, fields.substr(first + 1, second - first - 1), std::stoi(fields.substr(second + 1)));
      } catch (const std::exception&) {
      }
    }
    if (!ec) read_markers(s);
  });
}

void Sessions::finish(Session& s, const std::string& command_id, int exit_code) {
  for (auto& c : s.commands) {
    if (c->id != command_id || c->exit_code) continue;
    c->exit_code = exit_code;
    if (c->input_fd >= 0) close(c->input_fd);
    c->input_fd = -1;
    c->done->cancel();
  }
}

pid_t Sessions::start_entrypoint(const std::vector<std::string>& argv) {
  auto s = std::make_shared<Session>();
  s->id = "entrypoint";
  s->ended = true;  // nothing else runs in it
  auto c = std::make_shared<SessionCommand>();
  c->id = "entrypoint";
  for (const auto& a : argv) c->command += (c->command.empty() ? "" : " ") + a;
  c->dir = root_ + "/entrypoint/1";
  c->done = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
  std::error_code ec;
  fs::create_directories(c->dir, ec);
  SpawnSpec spec{argv, {}, work_dir_, false};
  spec.is_activity = false;  // the sandbox's own service, not toolbox work
  spec.stdout_file = c->dir + "/stdout";
  spec.stderr_file = c->dir + "/stderr";
  spec.own_session = true;
  s->commands.push_back(c);
  sessions_[s->id] = s;
  const auto spawned = children_.spawn(spec);
  if (spawned.pid < 0) {
    std::ofstream(spec.stderr_file, std::ios::app) << spawned.error << "\n";
    c->exit_code = 127;
    return -1;
  }
  std::weak_ptr<SessionCommand> weak = c;
  children_.on_exit(spawned.pid, [weak](int status) {
    if (auto command = weak.lock()) {
      command->exit_code = exit_code_of(status);
      command->done->cancel();
    }
  });
  return spawned.pid;
}

bool Sessions::busy() const {
  for (const auto& [id, s] : sessions_) {
    if (id == "entrypoint") continue;
    for (const auto& c : s->commands) {
      if (!c->exit_code) return true;
    }
  }
  return false;
}

std::shared_ptr<Session> Sessions::find(const std::string& id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Session>> Sessions::all() const {
  std::vector<std::shared_ptr<Session>> out;
  for (const auto& [id, s] : sessions_) out.push_back(s);
  return out;
}

std::shared_ptr<SessionCommand> Sessions::run(Session& s, const std::string& command) {
  if (s.ended) return nullptr;
  auto c = std::make_shared<SessionCommand>();
  c->id = new_id();
  c->command = command;
  c->dir = root_ + "/" + s.id + "/" + std::to_string(++counter_);
  c->done = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
  std::error_code ec;
  fs::create_directories(c->dir, ec);
  mkfifo((c->dir + "/input").c_str(), 0600);
  // Held open by the daemon, so the shell's open of the FIFO does not wait for a writer.
  c->input_fd = open((c->dir + "/input").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  std::ofstream(c->dir + "/stdout").flush();
  std::ofstream(c->dir + "/stderr").flush();
  s.commands.push_back(c);
  const std::string script = "{\n" + command + "\n} <'" + c->dir + "/input' >'" + c->dir + "/stdout' 2>'" + c->dir +
                             "/stderr'\nprintf '\\036done %s %d\\n' '" + c->id + "' \"$?\"\n";
  std::size_t written = 0;
  while (written < script.size()) {
    const auto n = write(s.stdin_fd, script.data() + written, script.size() - written);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      s.ended = true;
      finish(s, c->id, -1);
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  return c;
}

void Sessions::remove(const std::string& id) {
  auto s = find(id);
  if (!s) return;
  sessions_.erase(id);
  close(s->stdin_fd);
  kill(-s->shell, SIGKILL);
  for (auto& c : s->commands) {
    if (c->input_fd >= 0) close(c->input_fd);
    c->input_fd = -1;
    c->done->cancel();
  }
  boost::system::error_code ignored;
  s->markers->close(ignored);
  std::error_code ec;
  fs::remove_all(root_ + "/" + id, ec);
}

std::string Sessions::read_file(const std::string& path, std::size_t from, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(from));
  std::string out;
  char chunk[65536];
  while (out.size() < max) {
    in.read(chunk, static_cast<std::streamsize>(std::min(sizeof chunk, max - out.size())));
    const auto got = in.gcount();
    if (got <= 0) break;
    out.append(chunk, static_cast<std::size_t>(got));
  }
  return out;
}

std::string Sessions::read_bounded(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BoundedOutput kept;
  char chunk[65536];
  for (;;) {
    in.read(chunk, sizeof chunk);
    const auto got = in.gcount();
    if (got <= 0) break;
    kept.append(chunk, static_cast<std::size_t>(got));
  }
  return kept.text();
}

}  // namespace daemon_tb
