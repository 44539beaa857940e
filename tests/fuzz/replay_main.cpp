// Without libFuzzer (g++ builds): runs a fuzz target over its seed corpus and over a bounded
// number of deterministic mutations of it, so that CI exercises the target on every run.
// usage: fuzz_replay CORPUS_DIR [MUTATIONS]
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS]\n", argv[0]);
    return 2;
  }
  const int mutations = argc > 2 ? std::stoi(argv[2]) : 20000;
  std::vector<std::string> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    std::ifstream in(entry.path(), std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no seeds in %s\n", argv[1]);
    return 2;
  }
  // As libFuzzer does: each input in a buffer of exactly its size (no NUL after it), so a parser
  // that reads past its input is caught by ASan.
  auto run = [](const std::string& s) {
    auto exact = std::make_unique<std::uint8_t[]>(s.size());
    std::copy(s.begin(), s.end(), exact.get());
    LLVMFuzzerTestOneInput(exact.get(), s.size());
  };
  for (const auto& s : seeds) run(s);
  std::mt19937 rng(12345);
  for (int i = 0; i < mutations; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      const auto pos = s.empty() ? 0 : rng() % s.size();
      switch (rng() % 4) {
        case 0: if (!s.empty()) s[pos] = static_cast<char>(rng()); break;
        case 1: s.insert(pos, 1, static_cast<char>(rng())); break;
        case 2: if (!s.empty()) s.erase(pos, 1 + rng() % 8); break;
        default: s.insert(pos, seeds[rng() % seeds.size()].substr(0, rng() % 32)); break;
      }
    }
    run(s);
  }
  std::printf("fuzz replay: %zu seeds and %d mutations ran without a crash\n", seeds.size(), mutations);
  return 0;
}
