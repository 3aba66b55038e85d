// repwatch/sentiment/tokenizer.h - splits review text into words, numbers, emoji and the
// punctuation that structures it. Internal to sentiment/ (the analyzer and its tests use it).
//
// Rules:
//  - UTF-8 input; an invalid byte is treated as U+FFFD (a separator) and never crashes or
//    stops the scan. Offsets always index the original bytes.
//  - Words are case-folded (ASCII and Latin-1 letters) and hashed (WordHash: 64 bits of the
//    folded UTF-8); the token keeps no copy of the text. ’ and ‘ fold to '.
//  - Contractions stay one word ("wasn't", "didn’t"); a trailing possessive 's is left out of
//    the hash (not the span), so "doctor's" matches "doctor". Hyphen, slash and quotes
//    separate words.
//  - Numbers: "2", "1.5", "8:30", "10,000" are one token; digits glued to letters split off
//    ("45min" -> "45" "min", "2hrs" -> "2" "hrs").
//  - Emoji (U+2600..U+27BF, U+1F000..U+1FAFF) are one token each; skin tones, ZWJ and variation
//    selectors are skipped. Emoticons ":)" ":-)" ":(" ":-(" ":D" are one token.
//  - Punctuation tokens: '.', '!', '?', ';', ',', ':' and '\n' (also '…' as '.', parentheses and
//    a free-standing dash as ','). Everything else separates words silently. The '.' of a
//    title abbreviation ("Dr.", "Mr.", "Mrs.", "Ms.", "Prof.", "St.", "vs.", "etc.") is not one.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace repwatch::sentiment::detail {

enum class TokenKind : uint8_t { kWord, kNumber, kEmoji, kPunct };

struct Token {
  uint32_t offset = 0;  // first byte in the original text
  uint32_t length = 0;  // bytes in the original text
  uint64_t hash = 0;    // WordHash of the folded form, without a possessive 's (kPunct: 0)
  // Filled by the analyzer's matcher, not by the tokenizer:
  uint32_t root = 0;  // the phrase-trie node of this word alone, 0 when none
  int32_t lex = -1;   // index of the lexicon match covering this word, -1 when none
  TokenKind kind = TokenKind::kWord;
  char punct = 0;               // kPunct: which mark
  bool caps = false;            // an ALL-CAPS word of two or more letters
  bool capitalized = false;     // starts with an ASCII capital and has lower-case letters
  bool numeric = false;         // a number, or (set by the matcher) a number word ("two")
  bool sentence_start = false;  // (set by the matcher) the first word of a sentence
  uint8_t root_info = 0;        // (set by the matcher) PhraseTrie::RootHit::info of `root`
  bool is_punct() const { return kind == TokenKind::kPunct; }
};
static_assert(sizeof(Token) == 32);

struct TextStats {
  uint32_t letters = 0;        // letters in words
  uint32_t upper = 0;          // ASCII upper-case letters
  uint32_t non_latin = 0;      // letters outside Latin scripts (Greek, Cyrillic, CJK, ...)
  uint32_t invalid_bytes = 0;  // bytes that were not valid UTF-8
};

// The hash of a folded word: its bytes taken 8 at a time as little-endian blocks (the last one
// zero-padded), each block mixed in with one multiply and one xor-shift. A word has no zero
// bytes, so the blocks spell it out exactly and every step is a bijection: words of up to 8 bytes
// never collide, longer ones with probability ~2^-64. Unlike a byte-at-a-time hash (FNV-1a), the
// tokenizer's fast path mixes a whole ASCII word in one or two steps, straight from the 16 bytes
// it loaded to find the word's end.
struct WordHash {
  static constexpr uint64_t kSeed = 0x243F6A8885A308D3ull;
  uint64_t h = kSeed;
  uint64_t acc = 0;  // the bytes of the block being filled, len % 8 of them
  uint32_t len = 0;

  static constexpr uint64_t mix_block(uint64_t h, uint64_t block) {
    h = (h ^ block) * 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 31);
  }
  constexpr void add(unsigned char byte) {
    acc |= uint64_t{byte} << (8 * (len & 7));
    if ((++len & 7) == 0) {
      h = mix_block(h, acc);
      acc = 0;
    }
  }
  constexpr uint64_t finish() const { return (len & 7) ? mix_block(h, acc) : h; }
};

// The hash of an already folded (lower-case) ASCII word.
constexpr uint64_t hash_ascii(std::string_view word) {
  WordHash h;
  for (char c : word) h.add(static_cast<unsigned char>(c));
  return h.finish();
}

// Whether `h` is one of `words` (a handful of hash_ascii() values, scanned in order).
inline bool is_one_of(uint64_t h, std::span<const uint64_t> words) {
  return std::find(words.begin(), words.end(), h) != words.end();
}

// Writes the tokens of `text` to buf[0, count) and returns count. `buf` is a reusable buffer:
// it grows when needed and is never shrunk or re-initialised, so buf.size() may exceed count.
// The analyzer's hot path.
size_t tokenize_into(std::string_view text, std::vector<Token>& buf, TextStats* stats = nullptr);

// Replaces `out` with exactly the tokens of `text` and returns statistics.
inline TextStats tokenize(std::string_view text, std::vector<Token>& out) {
  TextStats stats;
  out.resize(tokenize_into(text, out, &stats));
  return stats;
}

}  // namespace repwatch::sentiment::detail
