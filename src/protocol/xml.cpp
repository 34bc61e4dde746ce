#include "protocol/xml.h"

#include "protocol/wire.h"

namespace gantry::protocol::xml {

Element& Element::attribute(std::string name, std::string value) {
  attributes_.emplace_back(std::move(name), std::move(value));
  return *this;
}

Element& Element::add(std::string name) { return children_.emplace_back(std::move(name)); }

Element& Element::add(std::string name, std::string_view text) {
  Element& e = children_.emplace_back(std::move(name));
  e.text_ = std::string(text);
  return e;
}

Element& Element::add(std::string name, bool value) { return add(std::move(name), value ? "true" : "false"); }

Element& Element::add(std::string name, int64_t value) { return add(std::move(name), std::to_string(value)); }

Element& Element::append(Element child) { return children_.emplace_back(std::move(child)); }

void Element::write(std::string& out) const {
  out += '<';
  out += name_;
  for (const auto& [k, v] : attributes_) {
    out += ' ';
    out += k;
    out += "=\"";
    out += xml_escape(valid_utf8(v));
    out += '"';
  }
  if (children_.empty() && text_.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  out += xml_escape(valid_utf8(text_));
  for (const auto& c : children_) c.write(out);
  out += "</";
  out += name_;
  out += '>';
}

std::string Element::str() const {
  std::string out;
  write(out);
  return out;
}

}  // namespace gantry::protocol::xml
