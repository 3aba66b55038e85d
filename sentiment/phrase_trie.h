// repwatch/sentiment/phrase_trie.h - a trie over word hashes: every lexicon entry and every
// taxonomy phrase is a path of word hashes, so one pass over a review's tokens finds all of
// them (at each word, follow edges while the next words match; the longest path wins).
// Edges live in one open-addressing table keyed by (parent node, word hash): a lookup is one
// or two probes and never allocates. Internal to sentiment/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace repwatch::sentiment::detail {

// Pseudo-word hashes for the phrase wildcards "<num>" (any number or number word) and "?"
// (any one word).
constexpr uint64_t kNumHash = 0x6e756d6265722121ull;
constexpr uint64_t kAnyHash = 0x616e79776f726421ull;
// "<start>" as the first word anchors a phrase at the start of a sentence.
constexpr uint64_t kStartHash = 0x7374617274212121ull;

// Node flags.
enum : uint8_t {
  kStopEn = 1,        // an English stop word
  kStopEs = 2,        // a Spanish stop word
  kNumberWord = 4,    // "two", "an", ... matched by <num>
  kHasNumChild = 8,   // has an edge along <num>
  kHasAnyChild = 16,  // has an edge along ?
  kStopIt = 32,       // an Italian stop word
  kStopFr = 64,       // a French stop word
  kStopDe = 128,      // a German stop word
};

struct TrieNode {
  int32_t lex = -1;       // lexicon entry ending here, -1 when none
  uint32_t tp_begin = 0;  // touchpoints ending here: tp_ids[tp_begin, tp_begin + tp_count)
  uint32_t tp_count = 0;
  uint32_t children = 0;  // number of outgoing edges
  uint8_t flags = 0;
};

class PhraseTrie {
 public:
  PhraseTrie();

  // The child of `node` along word `hash`, 0 when none (0 is the root, never a child). A bit set
  // of all edges, small enough to stay in L1 cache, answers most misses without touching the
  // edge table.
  [[gnu::always_inline]] uint32_t child(uint32_t node, uint64_t hash) const {
    uint64_t key = mix(node, hash);
    uint64_t bit = (key >> 40) & (kFilterBits - 1);
    if (!((filter_[bit >> 6] >> (bit & 63)) & 1)) return 0;
    for (uint64_t i = key & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.child == 0) return 0;
      if (s.hash == hash && s.parent == node) return s.child;
    }
  }
  // The child along `hash`, created when missing.
  uint32_t add_child(uint32_t node, uint64_t hash);

  // What the analyzer needs of a word alone: its node (the root's child along the word's hash,
  // 0 when none), the node's flags and a summary of it.
  enum : uint8_t { kRootHasChildren = 1, kRootHasLex = 2, kRootHasTouchpoints = 4 };
  struct RootHit {
    uint32_t node = 0;
    uint8_t flags = 0;  // TrieNode::flags
    uint8_t info = 0;   // kRoot* bits
  };
  // Same answer as child(0, hash), from a sparse table of the root's edges (built by
  // build_root_index(), after the last add_child or node change): one probe almost always, and
  // no branch on whether the word is there. Every word of every review goes through it.
  RootHit root_child(uint64_t hash) const {
    if (root_slots_.empty()) return slow_root_child(hash);
    return root_index().find(hash);
  }
  void build_root_index();

  struct RootSlot {
    uint64_t hash = 0;
    RootHit hit;  // hit.node == 0: empty slot, and then all of hit is zero
  };
  // The root table as plain values, for a loop that stores to one-byte fields (docs/sentiment.md,
  // "The code and the compiler").
  struct RootIndex {
    const RootSlot* slots;
    unsigned shift;
    uint64_t mask;
    RootHit find(uint64_t hash) const {
      for (uint64_t i = (hash * 0x9E3779B97F4A7C15ull) >> shift;; i = (i + 1) & mask) {
        const RootSlot& s = slots[i];
        // Found or empty, as one branch that is almost always taken (docs/sentiment.md, "The
        // code and the compiler"). Either way the slot's hit is the answer: an empty slot's is
        // all zeros, a miss.
        if (std::min<uint64_t>(s.hash ^ hash, s.hit.node) == 0) return s.hit;
      }
    }
  };
  // Only after build_root_index() (and no change since): the index is then never empty.
  RootIndex root_index() const { return {root_slots_.data(), root_shift_, root_mask_}; }

  const TrieNode& node(uint32_t id) const { return nodes_[id]; }
  TrieNode& node(uint32_t id) {
    root_slots_.clear();  // the caller may change the node: the root index is stale
    return nodes_[id];
  }
  size_t size() const { return nodes_.size(); }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t parent = 0;
    uint32_t child = 0;  // 0 = empty slot
  };
  static uint64_t mix(uint32_t parent, uint64_t hash) {
    uint64_t k = hash ^ (static_cast<uint64_t>(parent) * 0x9E3779B97F4A7C15ull);
    k ^= k >> 29;
    k *= 0xBF58476D1CE4E5B9ull;
    return k ^ (k >> 32);
  }
  void grow();
  RootHit slow_root_child(uint64_t hash) const;

  std::vector<RootSlot> root_slots_;  // empty until build_root_index(); cleared by add_child
  unsigned root_shift_ = 64;
  uint64_t root_mask_ = 0;

  static constexpr uint64_t kFilterBits = 1 << 17;
  std::vector<uint64_t> filter_ = std::vector<uint64_t>(kFilterBits / 64);
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  size_t used_ = 0;
  std::vector<TrieNode> nodes_;
};

// Depth-first over `trie` from `node`, reading tokens from `at`: the exact word first, then
// <num>, then ?, never across punctuation or past `limit`. Calls visit(node, end) at every node
// reached (end: one past the last token read); stops and returns true when visit does.
template <class Token, class Visit>
bool walk_phrases(const PhraseTrie& trie, uint32_t node, const Token* tokens, uint32_t at,
                  uint32_t limit, Visit&& visit) {
  struct Pending {
    uint32_t node, j;
  };
  Pending stack[24];  // a phrase has at most 10 words: at most two pending branches per word
  unsigned depth = 0;
  uint32_t j = at;
  for (;;) {
    const TrieNode& nd = trie.node(node);
    if (visit(node, j)) return true;
    uint32_t next = 0;
    if (nd.children && j < limit && !tokens[j].is_punct()) {
      const Token& t = tokens[j];
      if ((nd.flags & kHasAnyChild) && depth < std::size(stack)) {
        if (uint32_t c = trie.child(node, kAnyHash)) stack[depth++] = {c, j + 1};
      }
      if (t.numeric && (nd.flags & kHasNumChild) && depth < std::size(stack)) {
        if (uint32_t c = trie.child(node, kNumHash)) stack[depth++] = {c, j + 1};
      }
      next = trie.child(node, t.hash);
    }
    if (next) {
      node = next;
      ++j;
    } else if (depth) {
      --depth;
      node = stack[depth].node;
      j = stack[depth].j;
    } else {
      return false;
    }
  }
}

// Parses a phrase of the lexicon or taxonomy syntax into the word-hash paths it stands for:
// words separated by spaces, "a|b" alternatives for one word, "(a b|c)" alternatives that may
// have several words, "<num>", "?", a leading "<start>". A word may
// itself tokenize into several ("follow-up" -> follow, up). Throws std::invalid_argument with a
// message on bad syntax.
std::vector<std::vector<uint64_t>> parse_phrase(std::string_view phrase);

}  // namespace repwatch::sentiment::detail
