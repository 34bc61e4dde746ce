#include <gtest/gtest.h>

#include "services/logs/tokens.h"

namespace gantry::logs {
namespace {

TEST(LogsTokens, EventTokensRoundTrip) {
  EventToken f{true, {1700000000123, 42}};
  auto text = encode_event_token(f);
  EXPECT_EQ(text.substr(0, 2), "f/");
  EXPECT_EQ(text.size(), 42u);
  auto back = decode_event_token(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->forward);
  EXPECT_EQ(back->key, f.key);

  auto b = encode_event_token(EventToken{false, {0, 0}});
  EXPECT_EQ(b.substr(0, 2), "b/");
  ASSERT_TRUE(decode_event_token(b).has_value());
  EXPECT_FALSE(decode_event_token(b)->forward);
}

TEST(LogsTokens, ForeignTokensAreRejected) {
  auto good = encode_event_token(EventToken{true, {5, 6}});
  for (std::string bad : {std::string(""), std::string("f/"), std::string("x") + good.substr(1), good + "1",
                          good.substr(0, good.size() - 1) + "a", std::string("f/123")}) {
    EXPECT_FALSE(decode_event_token(bad).has_value()) << bad;
  }
}

TEST(LogsTokens, DigitStrings) {
  EXPECT_EQ(sequence_token(7).size(), 56u);
  EXPECT_EQ(sequence_token(7).back(), '7');
  EXPECT_NE(event_id(1), event_id(2));
}

}  // namespace
}  // namespace gantry::logs
