#include "services/ecr/manifest.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "protocol/wire.h"

namespace gantry::ecr {

namespace json = boost::json;

namespace {

Error invalid(std::string message) { return make_error(ErrorKind::kEcrInvalidParameter, std::move(message)); }

std::string_view str_member(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view{};
}

Result<Descriptor> parse_descriptor(const json::value& v, std::string_view where, bool with_platform) {
  if (!v.is_object()) return invalid(fmt::format("Invalid manifest: {} is not an object", where));
  const auto& o = v.as_object();
  Descriptor d{std::string(str_member(o, "mediaType")), image::Digest::from_bytes({}), 0, std::nullopt};
  auto digest = image::Digest::parse(str_member(o, "digest"));
  if (!digest) return invalid(fmt::format("Invalid manifest: {} has no valid sha256 digest", where));
  d.digest = *digest;
  auto* size = o.if_contains("size");
  if (size == nullptr || !(size->is_int64() || size->is_uint64()) || (size->is_int64() && size->as_int64() < 0))
    return invalid(fmt::format("Invalid manifest: {} has no valid size", where));
  d.size = size->is_int64() ? static_cast<uint64_t>(size->as_int64()) : size->as_uint64();
  if (with_platform) {
    if (auto* p = o.if_contains("platform"); p && p->is_object()) {
      const auto& po = p->as_object();
      d.platform = Platform{std::string(str_member(po, "os")), std::string(str_member(po, "architecture")),
                            std::string(str_member(po, "variant"))};
    }
  }
  return d;
}

}  // namespace

bool is_manifest_media_type(std::string_view m) {
  return m == kOciManifest || m == kOciIndex || m == kDockerManifest || m == kDockerManifestList;
}

bool is_index_media_type(std::string_view m) { return m == kOciIndex || m == kDockerManifestList; }

uint64_t Manifest::size_bytes() const {
  uint64_t total = config ? config->size : 0;
  for (const auto& l : layers) total += l.size;
  for (const auto& m : manifests) total += m.size;
  return total;
}

Result<Manifest> parse_manifest(std::string_view bytes, std::string_view declared) {
  auto parsed = protocol::parse_json_body(bytes);
  if (!parsed || bytes.empty()) return invalid("Invalid parameter at 'imageManifest': the manifest is not a JSON object");
  const json::object& doc = *parsed;
  auto* version = doc.if_contains("schemaVersion");
  if (version == nullptr || !version->is_int64() || version->as_int64() != 2)
    return invalid("Invalid manifest: schemaVersion must be 2 (Docker schema 1 manifests are not supported)");
  std::string_view in_doc = str_member(doc, "mediaType");
  // Content-Type may carry parameters ("; charset=utf-8").
  declared = declared.substr(0, declared.find(';'));
  while (!declared.empty() && declared.back() == ' ') declared.remove_suffix(1);
  Manifest m;
  if (!declared.empty() && !in_doc.empty() && declared != in_doc)
    return invalid(fmt::format("Invalid manifest: the declared media type {} differs from the manifest's {}",
                               declared.substr(0, 128), in_doc.substr(0, 128)));
  m.media_type = std::string(!declared.empty() ? declared : in_doc);
  if (m.media_type.empty()) m.media_type = doc.contains("manifests") ? kOciIndex : kOciManifest;
  if (!is_manifest_media_type(m.media_type))
    return invalid(fmt::format("Invalid manifest media type {}: Gantry accepts {}, {}, {} and {}",
                               m.media_type.substr(0, 128), kOciManifest, kOciIndex, kDockerManifest,
                               kDockerManifestList));
  if (m.is_index()) {
    auto* list = doc.if_contains("manifests");
    if (list == nullptr || !list->is_array()) return invalid("Invalid manifest: an index needs a manifests array");
    size_t i = 0;
    for (const auto& entry : list->as_array()) {
      GANTRY_ASSIGN_OR_RETURN(auto d, parse_descriptor(entry, fmt::format("manifests[{}]", i++), true));
      m.manifests.push_back(std::move(d));
    }
    return m;
  }
  auto* config = doc.if_contains("config");
  if (config == nullptr) return invalid("Invalid manifest: an image manifest needs a config descriptor");
  GANTRY_ASSIGN_OR_RETURN(auto c, parse_descriptor(*config, "config", false));
  m.config = std::move(c);
  auto* layers = doc.if_contains("layers");
  if (layers == nullptr || !layers->is_array()) return invalid("Invalid manifest: an image manifest needs a layers array");
  size_t i = 0;
  for (const auto& entry : layers->as_array()) {
    GANTRY_ASSIGN_OR_RETURN(auto d, parse_descriptor(entry, fmt::format("layers[{}]", i++), false));
    m.layers.push_back(std::move(d));
  }
  return m;
}

std::optional<Descriptor> select_platform(const Manifest& index, std::string_view os, std::string_view architecture) {
  for (const auto& d : index.manifests)
    if (d.platform && d.platform->os == os && d.platform->architecture == architecture) return d;
  return std::nullopt;
}

bool accepts(std::string_view accept, std::string_view media_type) {
  if (accept.empty()) return true;
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t comma = accept.find(',', pos);
    std::string_view item = accept.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    item = item.substr(0, item.find(';'));
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == media_type || item == "*/*") return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

}  // namespace gantry::ecr
