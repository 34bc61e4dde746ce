// A small XML tree for AWS XML responses (ec2 and query protocols). Handlers build the output as
// elements named exactly as the wire names them (EC2's locationName: `subnetId`, list items `item`;
// query's member names and `member` items), so the encoder needs no output model: it writes the tree.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gantry::protocol::xml {

class Element {
 public:
  explicit Element(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void rename(std::string name) { name_ = std::move(name); }
  Element& attribute(std::string name, std::string value);

  // Appends a child and returns it. References to children stay valid while the parent lives
  // (children live in a std::list), so nested builders can hold them.
  Element& add(std::string name);
  // A leaf child with text content.
  Element& add(std::string name, std::string_view text);
  Element& add(std::string name, const char* text) { return add(std::move(name), std::string_view(text)); }
  Element& add(std::string name, const std::string& text) { return add(std::move(name), std::string_view(text)); }
  Element& add(std::string name, bool value);
  Element& add(std::string name, int64_t value);
  Element& add(std::string name, int value) { return add(std::move(name), static_cast<int64_t>(value)); }
  // Appends a copy of an element built elsewhere.
  Element& append(Element child);

  const std::list<Element>& children() const { return children_; }
  const std::string& text() const { return text_; }

  // Serialises the element and its subtree, without an XML declaration. Text and attribute values
  // are escaped and made valid UTF-8; an element without children or text is written <name/>.
  std::string str() const;
  void write(std::string& out) const;

 private:
  std::string name_;
  std::vector<std::pair<std::string, std::string>> attributes_;
  std::string text_;
  std::list<Element> children_;
};

}  // namespace gantry::protocol::xml
