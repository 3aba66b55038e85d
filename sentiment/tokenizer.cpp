#include "sentiment/tokenizer.h"

#include <cstring>

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
// The tokenizer scans a copy of the text followed by 16 zero bytes.
#define kPadded 1
#endif

namespace repwatch::sentiment::detail {
namespace {

// Decodes one UTF-8 sequence at p[i..n). Returns its length (1..4) and sets cp, or returns 0
// for an invalid or truncated sequence (the caller skips one byte as U+FFFD).
inline int decode(const unsigned char* p, size_t n, size_t i, uint32_t& cp) {
  unsigned char c = p[i];
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  auto cont = [&](size_t k) { return k < n && (p[k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) {
    if (!cont(i + 1)) return 0;
    cp = ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    cp = ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;  // overlong or surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    cp = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) |
         (p[i + 3] & 0x3Fu);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    return 4;
  }
  return 0;
}

inline bool is_ascii_alpha(uint32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
inline bool is_digit(uint32_t c) { return c >= '0' && c <= '9'; }
inline bool is_apostrophe(uint32_t c) { return c == '\'' || c == 0x2019 || c == 0x2018; }
inline bool is_latin_letter(uint32_t c) {
  return (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7);
}
inline bool is_other_letter(uint32_t c) {
  return (c >= 0x370 && c <= 0x1FFF) || (c >= 0x2C00 && c <= 0x2DFF) ||
         (c >= 0x3040 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDFF) ||
         (c >= 0xFE70 && c <= 0xFEFF);
}
inline bool is_letter(uint32_t c) {
  return c < 0x80 ? is_ascii_alpha(c) : (is_latin_letter(c) || is_other_letter(c));
}
inline bool is_emoji(uint32_t c) {
  return (c >= 0x1F000 && c <= 0x1FAFF && !(c >= 0x1F3FB && c <= 0x1F3FF)) ||
         (c >= 0x2600 && c <= 0x27BF) || c == 0x2B50 || c == 0x2B55;
}

// Folds a letter to lower case (ASCII, Latin-1 and Latin Extended-A pairs).
inline uint32_t fold(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x17F && (c & 1) == 0 && c != 0x130) return c + 1;
  return c;
}

// Adds the UTF-8 bytes of c to the hash.
inline void add_cp(WordHash& h, uint32_t c) {
  if (c < 0x80) {
    h.add(static_cast<unsigned char>(c));
  } else if (c < 0x800) {
    h.add(static_cast<unsigned char>(0xC0 | (c >> 6)));
    h.add(static_cast<unsigned char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    h.add(static_cast<unsigned char>(0xE0 | (c >> 12)));
    h.add(static_cast<unsigned char>(0x80 | ((c >> 6) & 0x3F)));
    h.add(static_cast<unsigned char>(0x80 | (c & 0x3F)));
  } else {
    h.add(static_cast<unsigned char>(0xF0 | (c >> 18)));
    h.add(static_cast<unsigned char>(0x80 | ((c >> 12) & 0x3F)));
    h.add(static_cast<unsigned char>(0x80 | ((c >> 6) & 0x3F)));
    h.add(static_cast<unsigned char>(0x80 | (c & 0x3F)));
  }
}

inline bool is_abbreviation(uint64_t h) {
  constexpr uint64_t kAbbrev[] = {hash_ascii("dr"),   hash_ascii("mr"),   hash_ascii("mrs"),
                                  hash_ascii("ms"),   hash_ascii("prof"), hash_ascii("st"),
                                  hash_ascii("vs"),   hash_ascii("etc"),  hash_ascii("approx"),
                                  hash_ascii("appt"), hash_ascii("dept")};
  return is_one_of(h, kAbbrev);
}

// Character classes of bytes for the fast paths. kSep: ASCII that separates words silently;
// kMark: ASCII that may make a token of its own (see ascii_mark).
enum : uint8_t { kSep = 0, kLower = 1, kUpper = 2, kDigit = 3, kHigh = 4, kMark = 5 };
struct AsciiTable {
  uint8_t cls[256];
  constexpr AsciiTable() : cls() {
    for (int c = 0; c < 256; ++c) {
      cls[c] = c >= 0x80                ? kHigh
               : (c >= 'a' && c <= 'z') ? kLower
               : (c >= 'A' && c <= 'Z') ? kUpper
               : (c >= '0' && c <= '9') ? kDigit
                                        : kSep;
    }
    for (unsigned char c : {':', ';', '.', '!', '?', ',', '\n', '(', ')', '-'}) cls[c] = kMark;
  }
};
constexpr AsciiTable kAscii;

// Bytes 0..k-1 of a little-endian block (k in 0..8).
inline uint64_t low_bytes(uint64_t block, unsigned k) {
  return k >= 8 ? block : block & ((uint64_t{1} << (8 * k)) - 1);
}

// Set bits of a 16-bit mask (portable: baseline x86-64 has no popcnt instruction).
struct PopTable {
  uint8_t count[256];
  constexpr PopTable() : count() {
    for (int x = 1; x < 256; ++x) count[x] = static_cast<uint8_t>(count[x >> 1] + (x & 1));
  }
};
constexpr PopTable kPop;
inline unsigned popcount16(unsigned x) {
  return kPop.count[x & 0xFF] + kPop.count[(x >> 8) & 0xFF];
}

#if defined(kPadded)
// 16 bytes classified: bit k of each mask is byte k's. `folded` is the bytes | 0x20 (the lower
// case of a letter; digits already have that bit).
struct Block16 {
  __m128i folded;
  unsigned letter, digit, up;
};
inline Block16 classify16(const unsigned char* q) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  const __m128i folded = _mm_or_si128(x, _mm_set1_epi8(0x20));
  // Unsigned range checks with signed compares: v in [lo, hi] <=> v - lo - 128 < hi - lo - 127.
  auto in_range = [](__m128i v, char lo, char hi) {
    __m128i shifted = _mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(-128 - lo)));
    return _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(hi - lo - 127)));
  };
  return {folded, static_cast<unsigned>(_mm_movemask_epi8(in_range(folded, 'a', 'z'))),
          static_cast<unsigned>(_mm_movemask_epi8(in_range(x, '0', '9'))),
          static_cast<unsigned>(_mm_movemask_epi8(in_range(x, 'A', 'Z')))};
}

// Bytes after which a word of ASCII letters and digits surely ends: ASCII other than letters,
// digits, ' and & (which continue a word when a letter follows). The padding's 0 is one.
struct PlainEndTable {
  bool plain[256];
  constexpr PlainEndTable() : plain() {
    for (int c = 0; c < 0x80; ++c) {
      plain[c] = !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '\'' || c == '&');
    }
  }
};
constexpr PlainEndTable kPlainEnd;
#endif

// Consumes the run of ASCII letters and digits at p[j, n): adds it, folded, to `h` and counts its
// upper- and lower-case letters. Returns the end of the run. Folding an ASCII letter or digit is
// `| 0x20` (digits already have that bit), so with SSE2 (every x86-64) 16 bytes are classified,
// counted and folded at once, and whole 8-byte blocks go into the hash.
inline size_t ascii_run(const unsigned char* p, size_t j, size_t n, WordHash& h, uint32_t& upper,
                        uint32_t& lower) {
#if defined(kPadded)
  // p[n, n + 16) are zero bytes (see tokenize_into): a run ends there at the latest, so every
  // step loads 16 bytes, also at the end of the text (a byte-at-a-time tail mispredicted).
  (void)n;
  for (;;) {
    const Block16 b = classify16(p + j);
    const __m128i folded = b.folded;
    const unsigned letter = b.letter, up = b.up;
    const unsigned r = static_cast<unsigned>(__builtin_ctz(~(letter | b.digit)));  // 0..16
    const unsigned keep = (1u << r) - 1;
    const unsigned n_upper = popcount16(up & keep);
    upper += n_upper;
    lower += popcount16(letter & keep) - n_upper;
    if ((h.len & 7) == 0) {  // (h.acc == 0)
      const uint64_t lo = static_cast<uint64_t>(_mm_cvtsi128_si64(folded));
      const uint64_t hi =
          static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(folded, folded)));
      // The first block is mixed in either way and kept only when it is complete (r >= 8),
      // selected with masks (docs/sentiment.md, "The code and the compiler").
      const uint64_t mixed = WordHash::mix_block(h.h, lo);
      const uint64_t full = 0 - static_cast<uint64_t>(r >= 8);  // all ones when r >= 8
      h.h = (mixed & full) | (h.h & ~full);
      h.acc = low_bytes((hi & full) | (lo & ~full), r & 7);  // r == 16: 0, the 2nd block is full
      if (r == 16) h.h = WordHash::mix_block(h.h, hi);
      h.len += r;
    } else {
      for (unsigned k = 0; k < r; ++k) h.add(p[j + k] | 0x20);
    }
    j += r;
    if (r < 16) return j;
  }
#else
  for (; j < n; ++j) {
    const uint8_t c = kAscii.cls[p[j]];
    if (c != kLower && c != kUpper && c != kDigit) break;
    upper += c == kUpper;
    lower += c == kLower;
    h.add(p[j] | 0x20);
  }
  return j;
#endif
}

// Texts up to this long are copied to a buffer kept for the thread (see tokenize_into).
constexpr size_t kKeptCopy = 1 << 16;

// Appends tokens to a reusable buffer without re-initialising it, through pointers rather than
// an index (docs/sentiment.md, "The code and the compiler").
struct Out {
  std::vector<Token>& buf;
  Token* first = buf.data();
  Token* cur = first;
  Token* end = first + buf.size();
  Token& next() {
    if (cur == end) [[unlikely]]
      grow();
    return *cur++;
  }
  [[gnu::noinline]] void grow() {
    const size_t count = static_cast<size_t>(cur - first);
    buf.resize(buf.size() * 2 + 64);
    first = buf.data();
    cur = first + count;
    end = first + buf.size();
  }
  size_t count() const { return static_cast<size_t>(cur - first); }
  void token(size_t offset, size_t length, uint64_t hash, TokenKind kind, bool caps = false,
             bool capitalized = false, char punct = 0) {
    Token& t = next();
    t.offset = static_cast<uint32_t>(offset);
    t.length = static_cast<uint32_t>(length);
    t.hash = hash;
    t.kind = kind;
    t.caps = caps;
    t.capitalized = capitalized;
    t.punct = punct;
    t.numeric = kind == TokenKind::kNumber;
    t.root = 0;
    t.lex = -1;
    t.sentence_start = false;
    t.root_info = 0;
  }
  void punct(size_t offset, size_t length, char mark) {
    token(offset, length, 0, TokenKind::kPunct, false, false, mark);
  }
  const Token* last() const { return cur != first ? cur - 1 : nullptr; }
};

// The parts of tokenize_into's loop, each taking the token that starts at p[i] and returning
// where the scan goes on. Forced inline: the loop's state (position, counts, output pointers)
// then stays in registers (docs/sentiment.md, "The code and the compiler").
#define RW_TOKENIZER_PART [[gnu::always_inline]] inline

#if defined(kPadded)
// The common word: an ASCII letter, then ASCII letters and digits, fewer than 16, then a byte
// that ends it for sure. The same as word() (ascii_run's first step, then the end of the word),
// without its bookkeeping. The next word is most often one space away: it is taken in the same
// loop, without going through the classification of the space and of its first letter in
// tokenize_into. Returns i itself when the word at p[i] is not such a word (word() takes it).
RW_TOKENIZER_PART size_t plain_words(const unsigned char* p, size_t i, uint8_t cls, Out& out,
                                     TextStats& stats) {
  for (;;) {
    const Block16 blk = classify16(p + i);
    const unsigned r = static_cast<unsigned>(__builtin_ctz(~(blk.letter | blk.digit)));  // 1..16
    // p[i + r]: at most the padding's last byte.
    if (r >= 16 || !kPlainEnd.plain[p[i + r]]) return i;
    const unsigned keep = (1u << r) - 1;
    const unsigned up = blk.up & keep;
    const unsigned lower = blk.letter & keep & ~up;  // (up is a subset of letter)
    const unsigned n_upper = popcount16(up);
    // The run's bytes are letters but for the digits ("covid19"), which few words have.
    stats.letters += r;
    if (const unsigned digits = blk.digit & keep) [[unlikely]]
      stats.letters -= popcount16(digits);
    stats.upper += n_upper;
    const uint64_t lo = static_cast<uint64_t>(_mm_cvtsi128_si64(blk.folded));
    const uint64_t hi =
        static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(blk.folded, blk.folded)));
    // WordHash of the r folded bytes, as ascii_run computes it (masks, not a branch on r >= 8).
    const uint64_t full = 0 - static_cast<uint64_t>(r >= 8);
    const uint64_t first = WordHash::mix_block(WordHash::kSeed, lo);
    const uint64_t h = (first & full) | (WordHash::kSeed & ~full);
    const uint64_t acc = low_bytes((hi & full) | (lo & ~full), r & 7);
    const uint64_t hash = (r & 7) ? WordHash::mix_block(h, acc) : h;
    out.token(i, r, hash, TokenKind::kWord, (n_upper >= 2) & (lower == 0),
              (cls == kUpper) & (lower != 0));
    i += r;
    if (p[i] != ' ') return i;
    const uint8_t next = kAscii.cls[p[i + 1]];  // (p[n] is the padding's)
    if (next != kLower && next != kUpper) return i;
    ++i;
    cls = next;
  }
}
#endif

// A number: digits with inner '.', ',' or ':' followed by a digit.
RW_TOKENIZER_PART size_t number(const unsigned char* p, size_t n, size_t i, Out& out) {
  size_t j = i;
  WordHash h;
  while (j < n) {
    unsigned char d = p[j];
    if (is_digit(d) || ((d == '.' || d == ',' || d == ':') && j + 1 < n && is_digit(p[j + 1]))) {
      h.add(d);
      ++j;
    } else {
      break;
    }
  }
  out.token(i, j - i, h.finish(), TokenKind::kNumber);
  return j;
}

// Any word: letters (any script) and digits, with an apostrophe or '&' inside when a letter
// follows ("wasn't", "A&E"); a possessive "'s" is left out of the hash.
RW_TOKENIZER_PART size_t word(const unsigned char* p, size_t n, size_t i, uint8_t cls, Out& out,
                              TextStats& stats) {
  size_t j = i;
  WordHash h;
  WordHash before_apostrophe;
  bool apostrophe_s = false;
  uint32_t other_letters = 0, upper = 0, lower = 0;
  while (true) {
    j = ascii_run(p, j, n, h, upper, lower);
    if (j >= n) break;
    uint32_t cc = p[j];
    int cl = 1;
    if (cc >= 0x80) {
      cl = decode(p, n, j, cc);
      if (cl == 0) break;
      if (is_letter(cc)) {
        if (!is_latin_letter(cc)) ++stats.non_latin;
        ++other_letters;
        add_cp(h, fold(cc));
        j += cl;
        continue;
      }
    }
    if ((is_apostrophe(cc) || cc == '&') && j + cl < n) {
      // Inside a word only when a letter follows ("wasn't", "A&E").
      uint32_t next;
      int nl = decode(p, n, j + cl, next);
      if (nl == 0 || !is_letter(next)) break;
      if (cc == '&') {
        h.add('&');
      } else {
        before_apostrophe = h;
        h.add('\'');
        // A possessive: exactly "'s" then the end of the word.
        uint32_t after = 0;
        int al = (j + cl + nl < n) ? decode(p, n, j + cl + nl, after) : 0;
        apostrophe_s = (next | 0x20) == 's' && !(al > 0 && (is_letter(after) || is_digit(after)));
      }
      j += cl;
      continue;
    }
    break;
  }
  stats.letters += upper + lower + other_letters;
  stats.upper += upper;
  // (`&`, not `&&`: docs/sentiment.md, "The code and the compiler")
  out.token(i, j - i, apostrophe_s ? before_apostrophe.finish() : h.finish(), TokenKind::kWord,
            (upper >= 2) & (lower == 0), (cls == kUpper) & (lower > 0));
  return j;
}

// An ASCII byte that is not part of a word or number (c = p[i]): a punctuation token, an
// emoticon, or nothing (a separator).
RW_TOKENIZER_PART size_t ascii_mark(const unsigned char* p, size_t n, size_t i, uint32_t c,
                                    Out& out) {
  switch (c) {
    case ':':
    case ';': {
      // Emoticons: ":)" ":-)" ":(" ":-(" ":D" ":-D" (";)" too).
      size_t j = i + 1;
      if (j < n && p[j] == '-') ++j;
      if (j < n && (p[j] == ')' || p[j] == '(' ||
                    (p[j] == 'D' && (j + 1 >= n || !is_ascii_alpha(p[j + 1]))))) {
        WordHash h;
        h.add(':');
        if (p[i + 1] == '-') h.add('-');
        h.add(p[j]);
        out.token(i, j + 1 - i, h.finish(), TokenKind::kEmoji);
        return j + 1;
      }
      out.punct(i, 1, static_cast<char>(c));
      break;
    }
    case '.': {
      const Token* last = out.last();
      if (last && last->kind == TokenKind::kWord && last->offset + last->length == i &&
          is_abbreviation(last->hash)) {
        break;
      }
      out.punct(i, 1, '.');
      break;
    }
    case '!':
    case '?':
    case ',':
    case '\n':
      out.punct(i, 1, static_cast<char>(c));
      break;
    case '(':
    case ')':
      out.punct(i, 1, ',');
      break;
    case '-':
      // A free-standing dash (" - ") separates clauses; a hyphen inside a word does not.
      if ((i == 0 || p[i - 1] == ' ') && (i + 1 >= n || p[i + 1] == ' ')) {
        out.punct(i, 1, ',');
      }
      break;
    default:
      break;
  }
  return i + 1;
}

// A code point c of `len` bytes at p[i] that is neither a letter nor ASCII: an emoji token, an
// ellipsis or dash as punctuation, or nothing (other symbols, emoji modifiers, U+FEFF...).
RW_TOKENIZER_PART size_t symbol(size_t i, int len, uint32_t c, Out& out) {
  if (is_emoji(c)) {
    WordHash h;
    add_cp(h, c);
    out.token(i, len, h.finish(), TokenKind::kEmoji);
  } else if (c == 0x2026) {  // … ellipsis
    out.punct(i, len, '.');
  } else if (c == 0x2013 || c == 0x2014) {  // – — dashes
    out.punct(i, len, ',');
  }
  return i + len;
}

#undef RW_TOKENIZER_PART

}  // namespace

size_t tokenize_into(std::string_view text, std::vector<Token>& buf, TextStats* stats_out) {
  Out out{buf};
  TextStats stats;
  const size_t n = text.size();
#if defined(kPadded)
  // A copy of the text with 16 zero bytes after it, so that the ASCII runs may always load 16
  // bytes. A zero byte is a separator and the scan stops at n, so tokens are those of `text`.
  thread_local std::vector<unsigned char> padded_buf;
  std::vector<unsigned char> big;  // a long text's copy is not kept
  std::vector<unsigned char>& padded = n <= kKeptCopy ? padded_buf : big;
  if (padded.size() < n + 16) padded.resize(n + 16);
  if (n) std::memcpy(padded.data(), text.data(), n);
  std::memset(padded.data() + n, 0, 16);
  const unsigned char* p = padded.data();
#else
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
#endif
  size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    const uint8_t cls = kAscii.cls[b];
    if (cls == kSep) {  // spaces, quotes, ...: most bytes between words
      ++i;
      continue;
    }
#if defined(kPadded)
    if (cls == kLower || cls == kUpper) {
      // Past at least one word: the loop goes on from there, also when it is the start of a
      // word that plain_words does not take.
      if (const size_t j = plain_words(p, i, cls, out, stats); j != i) {
        i = j;
        continue;
      }
    }
#endif
    if (cls == kDigit) {
      i = number(p, n, i, out);
      continue;
    }
    uint32_t c = b;
    int len = 1;
    if (cls == kHigh) {
      len = decode(p, n, i, c);
      if (len == 0) {  // invalid byte: U+FFFD, a separator
        ++stats.invalid_bytes;
        ++i;
        continue;
      }
    }
    if (cls == kLower || cls == kUpper || (cls == kHigh && is_letter(c))) {
      i = word(p, n, i, cls, out, stats);
    } else if (c < 0x80) {
      i = ascii_mark(p, n, i, c, out);
    } else {
      i = symbol(i, len, c, out);
    }
  }
  if (stats_out) *stats_out = stats;
  return out.count();
}

}  // namespace repwatch::sentiment::detail
