#include "services/logs/filter_pattern.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace gantry::logs {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Error invalid(std::string_view why) {
  return make_error(ErrorKind::kLogsInvalidParameter, fmt::format("Invalid filter pattern: {}", why));
}

}  // namespace

bool FilterPattern::matches(std::string_view message) const {
  if (json) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(message, ec);
    return !ec && json->matches(doc);
  }
  for (const auto& t : required)
    if (message.find(t) == std::string_view::npos) return false;
  for (const auto& t : excluded)
    if (message.find(t) != std::string_view::npos) return false;
  if (any_of.empty()) return true;
  for (const auto& t : any_of)
    if (message.find(t) != std::string_view::npos) return true;
  return false;
}

namespace {

// '*' in `pattern` matches any run of characters.
bool glob(std::string_view pattern, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pattern.size() && pattern[p] == s[i]) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const boost::json::value* select(const boost::json::value& doc,
                                 const std::vector<std::variant<std::string, size_t>>& path) {
  const boost::json::value* v = &doc;
  for (const auto& step : path) {
    if (const auto* name = std::get_if<std::string>(&step)) {
      if (!v->is_object()) return nullptr;
      v = v->as_object().if_contains(*name);
    } else {
      size_t index = std::get<size_t>(step);
      if (!v->is_array() || index >= v->as_array().size()) return nullptr;
      v = &v->as_array()[index];
    }
    if (v == nullptr) return nullptr;
  }
  return v;
}

std::optional<double> number_of(const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double()) return v.as_double();
  return std::nullopt;
}

std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string text(s);
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return d;
}

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  Result<JsonCondition> parse_all() {
    skip();
    if (!eat("{")) return invalid("a JSON filter pattern starts with '{'");
    GANTRY_ASSIGN_OR_RETURN(auto cond, parse_or());
    skip();
    if (!eat("}")) return invalid("a JSON filter pattern ends with '}'");
    skip();
    if (i_ != s_.size()) return invalid("unexpected text after '}'");
    return cond;
  }

 private:
  void skip() {
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
  }
  bool eat(std::string_view token) {
    skip();
    if (s_.substr(i_, token.size()) != token) return false;
    i_ += token.size();
    return true;
  }
  bool eat_word(std::string_view word) {
    skip();
    if (s_.substr(i_, word.size()) != word) return false;
    size_t after = i_ + word.size();
    if (after < s_.size() && !is_space(s_[after]) && s_[after] != ')' && s_[after] != '}') return false;
    i_ = after;
    return true;
  }

  Result<JsonCondition> parse_or() {
    GANTRY_ASSIGN_OR_RETURN(auto first, parse_and());
    JsonCondition node;
    node.kind = JsonCondition::Kind::kOr;
    node.children.push_back(std::move(first));
    while (eat("||")) {
      GANTRY_ASSIGN_OR_RETURN(auto next, parse_and());
      node.children.push_back(std::move(next));
    }
    if (node.children.size() == 1) return std::move(node.children.front());
    return node;
  }

  Result<JsonCondition> parse_and() {
    GANTRY_ASSIGN_OR_RETURN(auto first, parse_primary());
    JsonCondition node;
    node.kind = JsonCondition::Kind::kAnd;
    node.children.push_back(std::move(first));
    while (eat("&&")) {
      GANTRY_ASSIGN_OR_RETURN(auto next, parse_primary());
      node.children.push_back(std::move(next));
    }
    if (node.children.size() == 1) return std::move(node.children.front());
    return node;
  }

  Result<JsonCondition> parse_primary() {
    if (++depth_ > 32) return invalid("too deeply nested");
    if (eat("(")) {
      GANTRY_ASSIGN_OR_RETURN(auto inner, parse_or());
      if (!eat(")")) return invalid("a '(' is not closed");
      --depth_;
      return inner;
    }
    GANTRY_ASSIGN_OR_RETURN(auto cond, parse_comparison());
    --depth_;
    return cond;
  }

  Result<JsonCondition> parse_comparison() {
    JsonCondition c;
    skip();
    if (!eat("$")) return invalid("a condition starts with a selector such as $.field");
    while (i_ < s_.size()) {
      if (s_[i_] == '.') {
        size_t start = ++i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '-'))
          ++i_;
        if (i_ == start) return invalid("a selector has an empty member name");
        c.path.emplace_back(std::string(s_.substr(start, i_ - start)));
      } else if (s_[i_] == '[') {
        size_t start = ++i_;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
        size_t index = 0;
        auto [p, ec] = std::from_chars(s_.data() + start, s_.data() + i_, index);
        if (ec != std::errc() || i_ >= s_.size() || s_[i_] != ']') return invalid("a selector has a bad array index");
        (void)p;
        ++i_;
        c.path.emplace_back(index);
      } else {
        break;
      }
    }
    if (eat_word("IS")) {
      for (const char* v : {"TRUE", "FALSE", "NULL"}) {
        if (eat_word(v)) {
          c.op = "IS";
          c.text = v;
          return c;
        }
      }
      return invalid("IS must be followed by TRUE, FALSE or NULL");
    }
    if (eat_word("NOT")) {
      if (!eat_word("EXISTS")) return invalid("NOT must be followed by EXISTS");
      c.op = "NOT_EXISTS";
      return c;
    }
    for (const char* op : {"!=", "<=", ">=", "=", "<", ">"}) {
      if (eat(op)) {
        c.op = op;
        break;
      }
    }
    if (c.op.empty()) return invalid("a condition needs an operator (=, !=, <, <=, >, >=, IS, NOT EXISTS)");
    skip();
    if (i_ < s_.size() && s_[i_] == '"') {
      ++i_;
      bool closed = false;
      while (i_ < s_.size()) {
        char ch = s_[i_++];
        if (ch == '\\' && i_ < s_.size()) {
          c.text.push_back(s_[i_++]);
        } else if (ch == '"') {
          closed = true;
          break;
        } else {
          c.text.push_back(ch);
        }
      }
      if (!closed) return invalid("a quoted value is not closed");
    } else {
      size_t start = i_;
      while (i_ < s_.size() && !is_space(s_[i_]) && s_[i_] != ')' && s_[i_] != '}' && s_[i_] != '&' && s_[i_] != '|')
        ++i_;
      c.text = std::string(s_.substr(start, i_ - start));
      if (c.text.empty()) return invalid(fmt::format("'{}' needs a value", c.op));
      c.number = parse_number(c.text);
    }
    if (c.op != "=" && c.op != "!=" && !c.number) return invalid(fmt::format("'{}' compares numbers only", c.op));
    return c;
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

bool JsonCondition::matches(const boost::json::value& doc) const {
  switch (kind) {
    case Kind::kAnd:
      for (const auto& c : children)
        if (!c.matches(doc)) return false;
      return true;
    case Kind::kOr:
      for (const auto& c : children)
        if (c.matches(doc)) return true;
      return false;
    case Kind::kCompare:
      break;
  }
  const auto* v = select(doc, path);
  if (op == "NOT_EXISTS") return v == nullptr;
  if (v == nullptr) return false;
  if (op == "IS") {
    if (text == "NULL") return v->is_null();
    return v->is_bool() && v->as_bool() == (text == "TRUE");
  }
  auto n = number_of(*v);
  if (number && n) {
    if (op == "=") return *n == *number;
    if (op == "!=") return *n != *number;
    if (op == "<") return *n < *number;
    if (op == "<=") return *n <= *number;
    if (op == ">") return *n > *number;
    if (op == ">=") return *n >= *number;
  }
  if (op != "=" && op != "!=") return false;
  std::string actual;
  if (v->is_string()) {
    actual = std::string(v->as_string());
  } else if (v->is_bool() || n) {
    actual = boost::json::serialize(*v);
  } else {
    return false;
  }
  bool equal = glob(text, actual);
  return op == "=" ? equal : !equal;
}

Result<FilterPattern> parse_filter_pattern(std::string_view text) {
  FilterPattern p;
  size_t i = 0;
  while (i < text.size() && is_space(text[i])) ++i;
  if (i < text.size()) {
    char first = text[i];
    if (first == '{') {
      GANTRY_ASSIGN_OR_RETURN(auto cond, JsonParser(text).parse_all());
      p.json = std::move(cond);
      return p;
    }
    if (first == '[') return invalid("space-delimited filter patterns ([a, b, ...]) are not supported by Gantry");
    if (first == '%') return invalid("regular-expression filter patterns (%...%) are not supported by Gantry");
  }
  while (i < text.size()) {
    if (is_space(text[i])) {
      ++i;
      continue;
    }
    char op = 0;
    if (text[i] == '-' || text[i] == '?') {
      op = text[i];
      ++i;
      if (i == text.size() || is_space(text[i])) return invalid(fmt::format("'{}' must be followed by a term", op));
    }
    std::string term;
    if (text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i++];
        if (c == '\\' && i < text.size() && (text[i] == '"' || text[i] == '\\')) {
          term.push_back(text[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          term.push_back(c);
        }
      }
      if (!closed) return invalid("a quoted phrase is not closed");
      if (i < text.size() && !is_space(text[i])) return invalid("a quoted phrase must be followed by a space");
    } else {
      while (i < text.size() && !is_space(text[i])) {
        if (text[i] == '"') return invalid(fmt::format("unexpected '\"' in term '{}'", term));
        term.push_back(text[i++]);
      }
    }
    if (term.empty()) continue;  // "" matches everything, so it adds no condition
    if (op == '-') {
      p.excluded.push_back(std::move(term));
    } else if (op == '?') {
      p.any_of.push_back(std::move(term));
    } else {
      p.required.push_back(std::move(term));
    }
  }
  return p;
}

}  // namespace gantry::logs
