// repwatch/replies/text.h - splits a reply into the words, numbers and marks the checker reads.
// Internal to replies/ (the checker and its tests use it).
//
// Rules:
//  - UTF-8 in; offsets index the original bytes. An invalid byte is a separator.
//  - Words: letters (any script) and digits that follow them ("jdoe1982"); apostrophes inside
//    stay ("you've", ’ folds to '); a trailing possessive 's (or the ' of "kids'") is left out
//    of `norm` and sets `possessive`. A hyphen between two letters separates words silently
//    ("follow-up" = follow, up); any other dash is a kPunct '-'.
//  - Numbers start with a digit and run over digits and . , : / - between digits ("555-0199",
//    "3/14", "10:40", "1,200"); an ordinal suffix joins them ("19th": ordinal); other letters
//    after digits start a word ("2pm" = 2, pm).
//  - Dotted capitals ("J.M.", "K.", "a.m.") are one kInitials token; the '.' of a title ("Dr.",
//    "Mrs.", "St.") is a kPunct that does not end a sentence.
//  - Email addresses and URLs (http://, https://, www.) are one token each.
//  - kPunct: . ! ? ; : , - ( ) and newline; kSymbol: $ # % @ & / + = * and other symbols.
//  - Sentences end at . ! ? ; : and line breaks; each token knows its sentence's index.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace repwatch::replies::detail {

enum class TokKind : uint8_t { kWord, kNumber, kInitials, kEmail, kUrl, kPunct, kSymbol };

struct Tok {
  uint32_t offset = 0;  // first byte in the text
  uint32_t length = 0;  // bytes in the text
  std::string norm;     // folded (ASCII lower case, ’ -> '), without a possessive 's
  TokKind kind = TokKind::kWord;
  char mark = 0;               // kPunct / kSymbol: which ('\n' for a line break)
  bool cap = false;            // starts with an upper-case letter
  bool all_caps = false;       // two or more letters, all upper case
  bool possessive = false;     // "son's", "kids'"
  bool ordinal = false;        // kNumber: "19th"
  bool has_digit = false;      // kWord: letters and digits ("jdoe1982")
  bool ends_sentence = false;  // kPunct: ends a sentence
  uint32_t digits = 0;         // kNumber: how many digits
  uint32_t sentence = 0;       // index of the sentence the token is in
  uint32_t line = 0;           // index of the line the token is on
};

// The tokens of `text`, in order.
std::vector<Tok> tokenize(std::string_view text);

// The folded form of one word as tokenize() would give it ("Crohn's" -> "crohn").
std::string fold_word(std::string_view word);

// True for kWord, kNumber and kInitials tokens: the ones phrases are made of.
inline bool is_wordlike(const Tok& t) {
  return t.kind == TokKind::kWord || t.kind == TokKind::kNumber || t.kind == TokKind::kInitials;
}

}  // namespace repwatch::replies::detail
