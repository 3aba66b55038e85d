// Tests of the sentiment tokenizer: words, contractions, numbers with units, emoji, case folding,
// punctuation signals and robustness on invalid UTF-8.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sentiment/phrase_trie.h"
#include "sentiment/tokenizer.h"

namespace repwatch::sentiment::detail {
namespace {

struct Tok {
  std::string text;
  TokenKind kind;
  char punct;
};

std::vector<Tok> tokens_of(std::string_view text) {
  std::vector<Token> buf;
  size_t n = tokenize_into(text, buf);
  std::vector<Tok> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(
        {std::string(text.substr(buf[i].offset, buf[i].length)), buf[i].kind, buf[i].punct});
  }
  return out;
}

std::vector<std::string> texts_of(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& t : tokens_of(text)) out.push_back(t.text);
  return out;
}

uint64_t hash_of(std::string_view word) {
  std::vector<Token> buf;
  EXPECT_EQ(tokenize_into(word, buf), 1u) << word;
  return buf[0].hash;
}

TEST(SentimentTokenizer, WordsContractionsAndPunctuation) {
  EXPECT_EQ(texts_of("The nurse wasn't friendly, didn’t call!!!"),
            (std::vector<std::string>{"The", "nurse", "wasn't", "friendly", ",", "didn’t", "call",
                                      "!", "!", "!"}));
  // Hyphens and slashes separate words; a free-standing dash is a clause mark.
  EXPECT_EQ(texts_of("follow-up and/or check-in - ok"),
            (std::vector<std::string>{"follow", "up", "and", "or", "check", "in", "-", "ok"}));
  EXPECT_EQ(texts_of("A&E was busy"), (std::vector<std::string>{"A&E", "was", "busy"}));
  // "Dr." is not the end of a sentence; "fine." is.
  auto toks = tokens_of("Dr. Lee was fine. Mrs. Hall too");
  std::vector<std::string> texts;
  for (const auto& t : toks) texts.push_back(t.text);
  EXPECT_EQ(texts,
            (std::vector<std::string>{"Dr", "Lee", "was", "fine", ".", "Mrs", "Hall", "too"}));
}

TEST(SentimentTokenizer, CaseFoldingAndApostrophes) {
  EXPECT_EQ(hash_of("RUDE"), hash_of("rude"));
  EXPECT_EQ(hash_of("Rude"), hash_of("rude"));
  EXPECT_EQ(hash_of("CAFÉ"), hash_of("café"));
  EXPECT_EQ(hash_of("didn’t"), hash_of("didn't"));
  EXPECT_NE(hash_of("didn't"), hash_of("didnt"));
  // A possessive hashes as the word itself; its span keeps the 's.
  std::vector<Token> buf;
  ASSERT_EQ(tokenize_into("doctor's", buf), 1u);
  EXPECT_EQ(buf[0].hash, hash_of("doctor"));
  EXPECT_EQ(buf[0].length, 8u);
  ASSERT_EQ(tokenize_into("it’s", buf), 1u);
  EXPECT_EQ(buf[0].hash, hash_of("it"));
  EXPECT_NE(hash_of("wasn't"), hash_of("wasn"));
  // ALL-CAPS and capitalised words are flagged.
  ASSERT_EQ(tokenize_into("RUDE Rude rude I", buf), 4u);
  EXPECT_TRUE(buf[0].caps);
  EXPECT_FALSE(buf[1].caps);
  EXPECT_TRUE(buf[1].capitalized);
  EXPECT_FALSE(buf[2].capitalized);
  EXPECT_FALSE(buf[3].caps);  // one letter is not shouting
}

TEST(SentimentTokenizer, NumbersWithUnits) {
  auto toks = tokens_of("waited 2hrs, then 45min; 1.5 hours at 8:30");
  std::vector<std::string> texts;
  for (const auto& t : toks) texts.push_back(t.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"waited", "2", "hrs", ",", "then", "45", "min", ";",
                                             "1.5", "hours", "at", "8:30"}));
  EXPECT_EQ(toks[1].kind, TokenKind::kNumber);
  EXPECT_EQ(toks[8].kind, TokenKind::kNumber);
  EXPECT_EQ(toks[11].kind, TokenKind::kNumber);
}

TEST(SentimentTokenizer, EmojiAndEmoticons) {
  auto toks = tokens_of("Great 👍🏽 staff :) but :-( ❤️");
  std::vector<std::string> texts;
  for (const auto& t : toks) texts.push_back(t.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"Great", "👍", "staff", ":)", "but", ":-(", "❤"}));
  EXPECT_EQ(toks[1].kind, TokenKind::kEmoji);
  EXPECT_EQ(toks[3].kind, TokenKind::kEmoji);
  EXPECT_EQ(toks[6].kind, TokenKind::kEmoji);
  // "Note:Doctor" is not an emoticon.
  EXPECT_EQ(texts_of("Note:Doctor"), (std::vector<std::string>{"Note", ":", "Doctor"}));
}

TEST(SentimentTokenizer, InvalidUtf8IsASeparatorAndNeverCrashes) {
  std::vector<Token> buf;
  TextStats stats;
  std::string bad =
      "good\xff\xfe"
      "bad\xc3"
      "\xe2\x80"
      "ok\xed\xa0\x80x\xf4\x90\x80\x80y\xc0\xaf";
  size_t n = tokenize_into(bad, buf, &stats);
  std::vector<std::string> texts;
  for (size_t i = 0; i < n; ++i) texts.push_back(bad.substr(buf[i].offset, buf[i].length));
  EXPECT_EQ(texts, (std::vector<std::string>{"good", "bad", "ok", "x", "y"}));
  EXPECT_GT(stats.invalid_bytes, 0u);
  // Random bytes: every token lies inside the text, in order, without overlap.
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    size_t count = tokenize_into(s, buf);
    uint32_t end = 0;
    for (size_t i = 0; i < count; ++i) {
      ASSERT_GE(buf[i].offset, end);
      ASSERT_GT(buf[i].length, 0u);
      end = buf[i].offset + buf[i].length;
      ASSERT_LE(end, s.size());
    }
  }
}

TEST(SentimentTokenizer, ExactSizeApiForCallersOutsideTheAnalyzer) {
  std::vector<Token> out;
  tokenize("a much longer text with many words in it", out);
  EXPECT_EQ(out.size(), 9u);
  TextStats stats = tokenize("Great!", out);
  ASSERT_EQ(out.size(), 2u);  // shrunk to exactly the tokens
  EXPECT_EQ(out[1].punct, '!');
  EXPECT_EQ(stats.letters, 5u);
}

TEST(SentimentTokenizer, PhraseSyntax) {
  EXPECT_EQ(parse_phrase("call|calls back").size(), 2u);
  auto paths = parse_phrase("(could not|couldn't) be happier");
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0].size(), 4u);  // could not be happier
  EXPECT_EQ(paths[1].size(), 3u);  // couldn't be happier
  EXPECT_EQ(parse_phrase("follow-up")[0].size(), 2u);
  EXPECT_EQ(parse_phrase("waited <num> hours")[0][1], kNumHash);
  EXPECT_EQ(parse_phrase("<start> more")[0][0], kStartHash);
  EXPECT_THROW(parse_phrase(""), std::invalid_argument);
  EXPECT_THROW(parse_phrase("? wait"), std::invalid_argument);
  EXPECT_THROW(parse_phrase("more <start>"), std::invalid_argument);
  EXPECT_THROW(parse_phrase("(a b"), std::invalid_argument);
  EXPECT_THROW(parse_phrase("a||b"), std::invalid_argument);
}

}  // namespace
}  // namespace repwatch::sentiment::detail
