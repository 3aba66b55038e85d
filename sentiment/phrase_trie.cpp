#include "sentiment/phrase_trie.h"

#include <stdexcept>

#include "core/text.h"
#include "sentiment/tokenizer.h"

namespace repwatch::sentiment::detail {

PhraseTrie::PhraseTrie() : slots_(256), mask_(255), nodes_(1) {}

uint32_t PhraseTrie::add_child(uint32_t node, uint64_t hash) {
  if (uint32_t existing = child(node, hash)) return existing;
  root_slots_.clear();  // stale: root_child() falls back to child() until rebuilt
  if ((used_ + 1) * 2 > slots_.size()) grow();
  uint32_t id = static_cast<uint32_t>(nodes_.size());
  nodes_.emplace_back();
  ++nodes_[node].children;
  uint64_t bit = (mix(node, hash) >> 40) & (kFilterBits - 1);
  filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
  if (hash == kNumHash) nodes_[node].flags |= kHasNumChild;
  if (hash == kAnyHash) nodes_[node].flags |= kHasAnyChild;
  for (uint64_t i = mix(node, hash) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i].child == 0) {
      slots_[i] = Slot{hash, node, id};
      break;
    }
  }
  ++used_;
  return id;
}

void PhraseTrie::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.child == 0) continue;
    for (uint64_t i = mix(s.parent, s.hash) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].child == 0) {
        slots_[i] = s;
        break;
      }
    }
  }
}

PhraseTrie::RootHit PhraseTrie::slow_root_child(uint64_t hash) const {
  RootHit hit;
  hit.node = child(0, hash);
  if (hit.node) {
    const TrieNode& n = nodes_[hit.node];
    hit.flags = n.flags;
    hit.info =
        static_cast<uint8_t>((n.children ? kRootHasChildren : 0) | (n.lex >= 0 ? kRootHasLex : 0) |
                             (n.tp_count ? kRootHasTouchpoints : 0));
  }
  return hit;
}

void PhraseTrie::build_root_index() {
  std::vector<RootSlot> slots;
  size_t count = 0;
  for (const Slot& s : slots_) count += s.child != 0 && s.parent == 0;
  // At most 1/4 full: a word is found, or found missing, at the first probe almost always.
  size_t size = 64;
  unsigned bits = 6;
  while (size < count * 4) {
    size *= 2;
    ++bits;
  }
  slots.resize(size);
  for (const Slot& s : slots_) {
    if (s.child == 0 || s.parent != 0) continue;
    for (uint64_t i = (s.hash * 0x9E3779B97F4A7C15ull) >> (64 - bits);; i = (i + 1) & (size - 1)) {
      if (slots[i].hit.node == 0) {
        slots[i].hash = s.hash;
        slots[i].hit = slow_root_child(s.hash);
        break;
      }
    }
  }
  root_slots_ = std::move(slots);
  root_shift_ = 64 - bits;
  root_mask_ = size - 1;
}

std::vector<std::vector<uint64_t>> parse_phrase(std::string_view phrase) {
  constexpr size_t kMaxPaths = 512;
  constexpr size_t kMaxWords = 10;
  std::vector<std::vector<uint64_t>> paths(1);
  std::vector<Token> tokens;
  size_t pos = 0;
  size_t slots = 0;
  while (pos < phrase.size()) {
    std::string_view slot;
    if (phrase[pos] == '(') {
      // A group: "(could not|couldn't)", alternatives that may contain spaces.
      size_t close = phrase.find(')', pos);
      if (close == std::string_view::npos) throw std::invalid_argument("unclosed \"(\"");
      slot = phrase.substr(pos + 1, close - pos - 1);
      pos = close + 1;
      if (pos < phrase.size() && phrase[pos] != ' ') {
        throw std::invalid_argument("expected a space after \")\"");
      }
      if (slot.find('(') != std::string_view::npos) {
        throw std::invalid_argument("groups cannot be nested");
      }
    } else {
      size_t end = phrase.find(' ', pos);
      if (end == std::string_view::npos) end = phrase.size();
      slot = phrase.substr(pos, end - pos);
      pos = end + 1;
      if (slot.empty()) continue;
    }
    ++slots;
    // The alternatives of this word slot, each a sequence of word hashes.
    std::vector<std::vector<uint64_t>> alternatives;
    for (std::string_view alt : split(slot, '|')) {
      if (alt.empty()) {
        throw std::invalid_argument("empty alternative in \"" + std::string(slot) + "\"");
      }
      // Word by word, so that a wildcard may stand inside a group ("(<num> times|around)").
      std::vector<uint64_t> words;
      for (std::string_view word : split(alt, ' ')) {
        if (word.empty()) continue;
        const bool first = slots == 1 && words.empty();
        if (word == "<start>") {
          if (!first) throw std::invalid_argument("\"<start>\" must be the first word");
          words.push_back(kStartHash);
        } else if (word == "<num>") {
          words.push_back(kNumHash);
        } else if (word == "?") {
          if (first) throw std::invalid_argument("a phrase cannot start with \"?\"");
          words.push_back(kAnyHash);
        } else if (word.front() == '<') {
          throw std::invalid_argument("unknown wildcard \"" + std::string(word) +
                                      "\" (there are <num>, <start> and ?)");
        } else {
          size_t count = tokenize_into(word, tokens);
          for (size_t k = 0; k < count; ++k) {
            if (tokens[k].kind != TokenKind::kPunct) words.push_back(tokens[k].hash);
          }
        }
      }
      if (words.empty()) {
        throw std::invalid_argument("\"" + std::string(alt) + "\" contains no word");
      }
      alternatives.push_back(std::move(words));
    }
    std::vector<std::vector<uint64_t>> next;
    for (const auto& path : paths) {
      for (const auto& alt : alternatives) {
        auto p = path;
        p.insert(p.end(), alt.begin(), alt.end());
        if (p.size() > kMaxWords) {
          throw std::invalid_argument("phrase longer than " + std::to_string(kMaxWords) + " words");
        }
        next.push_back(std::move(p));
      }
    }
    if (next.size() > kMaxPaths) {
      throw std::invalid_argument("too many alternatives (more than " + std::to_string(kMaxPaths) +
                                  " combinations)");
    }
    paths = std::move(next);
  }
  if (slots == 0) throw std::invalid_argument("empty phrase");
  return paths;
}

}  // namespace repwatch::sentiment::detail
