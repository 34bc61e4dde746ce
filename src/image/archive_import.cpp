#include "image/archive_import.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "image/posix_file.h"

namespace gantry::image {

namespace json = boost::json;

namespace {

constexpr size_t kChunk = size_t{1} << 20;
constexpr int kMaxLinkHops = 16;
constexpr int kMaxIndexDepth = 4;
constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";

Error invalid(std::string message) { return make_error(ErrorKind::kImageLayerInvalid, std::move(message)); }

// "a/./b//c/" → "a/b/c". With `allow_dotdot`, ".." pops a component (for link targets, already
// joined to their directory); popping past the top means the path leaves the archive.
Result<std::string> clean_path(std::string_view in, bool allow_dotdot, std::string_view what) {
  if (in.empty()) return invalid(fmt::format("{} is empty", what));
  if (in.front() == '/') return invalid(fmt::format("{} '{}' is absolute", what, printable(in)));
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= in.size()) {
    size_t slash = in.find('/', pos);
    if (slash == std::string_view::npos) slash = in.size();
    auto part = in.substr(pos, slash - pos);
    if (part == "..") {
      if (!allow_dotdot) return invalid(fmt::format("{} '{}' has a '..' component", what, printable(in)));
      if (parts.empty()) return invalid(fmt::format("{} '{}' leaves the archive", what, printable(in)));
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    pos = slash + 1;
  }
  if (parts.empty()) return std::string();
  std::string out(parts.front());
  for (size_t i = 1; i < parts.size(); ++i) {
    out.push_back('/');
    out.append(parts[i]);
  }
  return out;
}

std::string_view parent_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view base_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_lower_hex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(tag.front())) return false;
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

// The tag of a reference: "name:tag" / "host:5000/a/b:tag" → "tag"; a bare "tag" (an OCI ref.name)
// → itself; "name@sha256:…" or "host:5000/name" → none.
std::optional<std::string> tag_of(std::string_view reference) {
  auto at = reference.find('@');
  if (at != std::string_view::npos) reference = reference.substr(0, at);
  auto slash = reference.rfind('/');
  auto colon = reference.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    auto tag = reference.substr(colon + 1);
    if (valid_tag(tag)) return std::string(tag);
    return std::nullopt;
  }
  if (at == std::string_view::npos && slash == std::string_view::npos && valid_tag(reference)) {
    return std::string(reference);
  }
  return std::nullopt;
}

bool is_manifest_type(std::string_view mt) { return mt == kMediaTypeOciManifest || mt == kMediaTypeDockerManifest; }
bool is_index_type(std::string_view mt) { return mt == kMediaTypeOciIndex || mt == kMediaTypeDockerManifestList; }

// ---- JSON ----

Result<json::value> parse_json(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return invalid(fmt::format("{} is not valid JSON: {}", what, ec.message()));
  return v;
}

Result<const json::object*> object_of(const json::value& v, std::string_view what) {
  if (!v.is_object()) return invalid(fmt::format("{} is not a JSON object", what));
  return &v.get_object();
}

// A string member; nullopt when absent or null, an error when of another type.
Result<std::optional<std::string>> string_member(const json::object& o, std::string_view key, std::string_view what) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) return invalid(fmt::format("{}: \"{}\" is not a string", what, key));
  return std::optional<std::string>(std::string(it->value().get_string()));
}

Result<const json::array*> array_member(const json::object& o, std::string_view key, std::string_view what,
                                        bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    if (required) return invalid(fmt::format("{} has no \"{}\" array", what, key));
    return static_cast<const json::array*>(nullptr);
  }
  if (!it->value().is_array()) return invalid(fmt::format("{}: \"{}\" is not an array", what, key));
  return &it->value().get_array();
}

struct Descriptor {
  std::string media_type;
  Digest digest;
  uint64_t size;
  bool has_urls;  // a foreign / non-distributable layer that may live elsewhere
  std::optional<Platform> platform;
  std::vector<std::string> references;
};

Result<std::optional<Platform>> platform_from(const json::object& o, std::string_view what) {
  GANTRY_ASSIGN_OR_RETURN(auto os, string_member(o, "os", what));
  GANTRY_ASSIGN_OR_RETURN(auto arch, string_member(o, "architecture", what));
  GANTRY_ASSIGN_OR_RETURN(auto variant, string_member(o, "variant", what));
  if (!os && !arch) return std::optional<Platform>();
  return std::optional<Platform>(Platform{os.value_or(""), arch.value_or(""), variant.value_or("")});
}

Result<Descriptor> parse_descriptor(const json::value& v, std::string_view what) {
  GANTRY_ASSIGN_OR_RETURN(const json::object* o, object_of(v, what));
  GANTRY_ASSIGN_OR_RETURN(auto media_type, string_member(*o, "mediaType", what));
  GANTRY_ASSIGN_OR_RETURN(auto digest_text, string_member(*o, "digest", what));
  if (!digest_text) return invalid(fmt::format("{} has no digest", what));
  auto digest = Digest::parse(*digest_text);
  if (!digest.ok()) {
    return make_error(ErrorKind::kImageDigestInvalid, fmt::format("{}: {}", what, digest.error().message));
  }
  auto size_it = o->find("size");
  if (size_it == o->end() || !(size_it->value().is_int64() || size_it->value().is_uint64()) ||
      (size_it->value().is_int64() && size_it->value().get_int64() < 0)) {
    return invalid(fmt::format("{} has no valid size", what));
  }
  uint64_t size = size_it->value().is_uint64() ? size_it->value().get_uint64()
                                               : static_cast<uint64_t>(size_it->value().get_int64());
  GANTRY_ASSIGN_OR_RETURN(const json::array* urls, array_member(*o, "urls", what, false));
  Descriptor d{media_type.value_or(""), *digest, size, urls != nullptr && !urls->empty(), std::nullopt, {}};
  if (auto p = o->find("platform"); p != o->end() && p->value().is_object()) {
    GANTRY_ASSIGN_OR_RETURN(d.platform, platform_from(p->value().get_object(), what));
  }
  if (auto a = o->find("annotations"); a != o->end() && a->value().is_object()) {
    const auto& ann = a->value().get_object();
    GANTRY_ASSIGN_OR_RETURN(auto ref, string_member(ann, kRefNameAnnotation, what));
    GANTRY_ASSIGN_OR_RETURN(auto name, string_member(ann, kContainerdNameAnnotation, what));
    if (ref) {
      d.references.push_back(*ref);
    } else if (name) {
      d.references.push_back(*name);
    }
  }
  return d;
}

// ---- hashing a stored gzip layer (a docker archive's diffID check) ----

Result<Digest> gunzip_digest(BlobStore& store, const Digest& blob, std::string_view what) {
  GANTRY_ASSIGN_OR_RETURN(BlobReader reader, store.open_read(blob));
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return make_error(ErrorKind::kInternal, "zlib inflateInit2 failed");
  std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&zs, &inflateEnd);
  std::vector<uint8_t> in(kChunk);
  std::vector<uint8_t> out(kChunk);
  Sha256 hash;
  bool member_done = false;
  for (;;) {
    GANTRY_ASSIGN_OR_RETURN(size_t n, reader.read(in));
    if (n == 0) break;
    zs.next_in = in.data();
    zs.avail_in = static_cast<uInt>(n);
    while (zs.avail_in > 0) {
      if (member_done) {  // another gzip member follows
        if (inflateReset(&zs) != Z_OK) return make_error(ErrorKind::kInternal, "zlib inflateReset failed");
        member_done = false;
      }
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      int rc = inflate(&zs, Z_NO_FLUSH);
      hash.update(std::span<const uint8_t>(out.data(), out.size() - zs.avail_out));
      if (rc == Z_STREAM_END) {
        member_done = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return invalid(fmt::format("{}: gzip stream is corrupt: {}", what, zs.msg ? zs.msg : "inflate failed"));
      }
    }
  }
  if (!member_done) return invalid(fmt::format("{}: gzip stream is truncated", what));
  return hash.digest();
}

// ---- the archive reader ----

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

struct StoredFile {
  Digest digest;
  uint64_t size;
};

class Importer {
 public:
  Importer(std::string name, BlobStore& store, const ArchiveImportOptions& options)
      : name_(std::move(name)), store_(store), options_(options) {}

  // Every error names the archive first: "import <name>: <what and where>".
  Result<ArchiveImport> run(struct archive* ar) {
    Status status = import_all(ar);
    if (!status.ok()) {
      Error e = status.error();
      e.message = fmt::format("import {}: {}", name_, e.message);
      return e;
    }
    return std::move(result_);
  }

 private:
  Status import_all(struct archive* ar) {
    GANTRY_RETURN_IF_ERROR(read_entries(ar));
    if (meta_.contains("index.json")) {
      result_.format = ArchiveFormat::kOciLayout;
      return import_oci();
    }
    if (meta_.contains("manifest.json")) {
      result_.format = ArchiveFormat::kDockerArchive;
      return import_docker();
    }
    return invalid(
        "neither an OCI image layout (no index.json at the top) nor a docker save archive (no manifest.json at "
        "the top)");
  }

  // ---- pass over the archive ----

  Status read_entries(struct archive* ar) {
    std::vector<uint8_t> buffer(kChunk);
    uint64_t entries = 0;
    for (;;) {
      struct archive_entry* entry = nullptr;
      int rc = archive_read_next_header(ar, &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        return invalid(last_.empty() ? fmt::format("not a tar archive: {}", archive_text(ar))
                                     : fmt::format("truncated or corrupt after entry '{}': {}", printable(last_),
                                                   archive_text(ar)));
      }
      if (++entries > options_.max_entries) {
        return make_error(ErrorKind::kImageSizeInvalid,
                          fmt::format("more than {} entries in the archive", options_.max_entries));
      }
      const char* raw = archive_entry_pathname(entry);
      std::string shown = printable(raw ? raw : "");
      auto path_or = clean_path(raw ? raw : "", false, fmt::format("entry '{}': path", shown));
      if (!path_or.ok()) return path_or.error();
      std::string path = std::move(path_or).value();
      last_ = path;
      GANTRY_RETURN_IF_ERROR(read_entry(ar, entry, path, shown, buffer));
    }
    return {};
  }

  static std::string archive_text(struct archive* ar) {
    const char* s = archive_error_string(ar);
    return s ? s : "unknown libarchive error";
  }

  Status claim(const std::string& path, std::string_view shown) {
    if (!seen_.insert(path).second) {
      return invalid(fmt::format("entry '{}' appears twice in the archive", shown));
    }
    return {};
  }

  Status read_entry(struct archive* ar, struct archive_entry* entry, const std::string& path, std::string_view shown,
                    std::vector<uint8_t>& buffer) {
    if (const char* hard = archive_entry_hardlink(entry); hard != nullptr) {
      auto target = clean_path(hard, false, fmt::format("entry '{}': hard link target", shown));
      if (!target.ok()) return target.error();
      GANTRY_RETURN_IF_ERROR(claim(path, shown));
      links_[path] = *target;
      return {};
    }
    mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) return {};
    if (path.empty()) return invalid(fmt::format("entry '{}' names the archive's top directory", shown));
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      if (target == nullptr || *target == '\0') return invalid(fmt::format("symlink '{}' has no target", shown));
      if (*target == '/') {
        return invalid(fmt::format("symlink '{}' points to the absolute path '{}', outside the archive", shown,
                                   printable(target)));
      }
      std::string joined = std::string(parent_of(path));
      if (!joined.empty()) joined.push_back('/');
      joined += target;
      auto resolved = clean_path(joined, true, fmt::format("symlink '{}' target", shown));
      if (!resolved.ok()) return resolved.error();
      GANTRY_RETURN_IF_ERROR(claim(path, shown));
      links_[path] = *resolved;
      return {};
    }
    if (type != AE_IFREG) {
      return invalid(fmt::format("entry '{}' is a {}; an image archive holds only files, directories and links", shown,
                                 type == AE_IFCHR    ? "character device"
                                 : type == AE_IFBLK  ? "block device"
                                 : type == AE_IFIFO  ? "FIFO"
                                 : type == AE_IFSOCK ? "socket"
                                                     : "special file"));
    }
    GANTRY_RETURN_IF_ERROR(claim(path, shown));
    int64_t declared = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    if (declared < 0 || static_cast<uint64_t>(declared) > options_.max_entry_bytes) {
      return make_error(ErrorKind::kImageSizeInvalid, fmt::format("entry '{}' is {} bytes, over the limit of {}", shown,
                                                                  declared, options_.max_entry_bytes));
    }
    if (path == "index.json" || path == "oci-layout" || path == "manifest.json" || path == "repositories") {
      return read_metadata(ar, path, shown, buffer);
    }
    auto base = base_of(path);
    if (path.find('/') != std::string::npos && (base == "json" || base == "VERSION") && !path.starts_with("blobs/")) {
      return skip(ar, shown);  // legacy v1 layer metadata of docker save; nothing reads it
    }
    std::optional<Digest> named;
    if (path.starts_with("blobs/")) {
      auto rest = std::string_view(path).substr(6);
      auto slash = rest.find('/');
      if (slash == std::string_view::npos || rest.find('/', slash + 1) != std::string_view::npos) {
        return invalid(fmt::format("entry '{}': expected blobs/<algorithm>/<hex>", shown));
      }
      if (rest.substr(0, slash) != "sha256") {
        return make_error(ErrorKind::kImageDigestInvalid,
                          fmt::format("entry '{}': only sha256 blobs are supported", shown));
      }
      auto digest = Digest::parse(fmt::format("sha256:{}", rest.substr(slash + 1)));
      if (!digest.ok()) {
        return make_error(ErrorKind::kImageDigestInvalid, fmt::format("entry '{}': {}", shown, digest.error().message));
      }
      named = *digest;
      GANTRY_ASSIGN_OR_RETURN(bool present, store_.exists(*named));
      if (present) {
        GANTRY_ASSIGN_OR_RETURN(uint64_t size, store_.size(*named));
        files_.emplace(path, StoredFile{*named, size});
        ++result_.blobs_present;
        return skip(ar, shown);
      }
    }
    return store_file(ar, path, shown, named, buffer);
  }

  Status skip(struct archive* ar, std::string_view shown) {
    if (archive_read_data_skip(ar) < ARCHIVE_WARN) {
      return invalid(fmt::format("entry '{}' is truncated or corrupt: {}", shown, archive_text(ar)));
    }
    return {};
  }

  // Pulls the next bytes of the current entry, counting them against the caps.
  Result<size_t> read_data(struct archive* ar, std::string_view shown, std::vector<uint8_t>& buffer,
                           uint64_t entry_so_far, uint64_t entry_cap) {
    la_ssize_t n = archive_read_data(ar, buffer.data(), buffer.size());
    if (n < 0) {
      return invalid(fmt::format("entry '{}' is truncated or corrupt: {}", shown, archive_text(ar)));
    }
    auto got = static_cast<uint64_t>(n);
    if (got > entry_cap - entry_so_far) {
      return make_error(ErrorKind::kImageSizeInvalid,
                        fmt::format("entry '{}' is larger than the limit of {} bytes", shown, entry_cap));
    }
    if (got > options_.max_total_bytes - total_) {
      return make_error(ErrorKind::kImageSizeInvalid,
                        fmt::format("the archive holds more than the limit of {} bytes (at entry '{}')",
                                    options_.max_total_bytes, shown));
    }
    total_ += got;
    return static_cast<size_t>(n);
  }

  Status read_metadata(struct archive* ar, const std::string& path, std::string_view shown,
                       std::vector<uint8_t>& buffer) {
    std::string text;
    for (;;) {
      GANTRY_ASSIGN_OR_RETURN(size_t n, read_data(ar, shown, buffer, text.size(), options_.max_metadata_bytes));
      if (n == 0) break;
      text.append(reinterpret_cast<const char*>(buffer.data()), n);
    }
    meta_[path] = std::move(text);
    return {};
  }

  // Streams the entry into an upload and commits it under `named` (verified by the store) or, for a
  // file whose name states no digest, under the digest of its content.
  Status store_file(struct archive* ar, const std::string& path, std::string_view shown,
                    const std::optional<Digest>& named, std::vector<uint8_t>& buffer) {
    GANTRY_ASSIGN_OR_RETURN(std::string upload, store_.begin_upload());
    struct Cancel {
      BlobStore& store;
      const std::string& id;
      bool armed = true;
      ~Cancel() {
        if (armed) (void)store.cancel(id);
      }
    } cancel{store_, upload};
    Sha256 hash;
    uint64_t size = 0;
    for (;;) {
      GANTRY_ASSIGN_OR_RETURN(size_t n, read_data(ar, shown, buffer, size, options_.max_entry_bytes));
      if (n == 0) break;
      std::span<const uint8_t> chunk(buffer.data(), n);
      if (!named) hash.update(chunk);
      auto appended = store_.append(upload, chunk, size);
      if (!appended.ok()) return appended.error();
      size = *appended;
    }
    Digest digest = named ? *named : hash.digest();
    GANTRY_ASSIGN_OR_RETURN(bool present, store_.exists(digest));
    auto committed = store_.commit(upload, digest);
    if (!committed.ok()) {  // a mismatch already deleted the upload; other failures may not have
      Error e = committed.error();
      if (e.kind == ErrorKind::kImageDigestInvalid) {
        e.message = fmt::format("entry '{}' does not hash to the digest its name states: {}", shown, e.message);
      } else {
        e.message = fmt::format("entry '{}': {}", shown, e.message);
      }
      return e;
    }
    cancel.armed = false;
    files_.emplace(path, StoredFile{digest, *committed});
    if (present) {
      ++result_.blobs_present;
    } else {
      ++result_.blobs_added;
      result_.bytes_added += *committed;
    }
    return {};
  }

  // ---- lookups after the pass ----

  // The stored file an archive path names, through symlinks and hard links.
  Result<StoredFile> file_at(std::string_view raw, std::string_view who) {
    GANTRY_ASSIGN_OR_RETURN(std::string path, clean_path(raw, false, fmt::format("{}: path", who)));
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
      if (auto f = files_.find(path); f != files_.end()) return f->second;
      auto l = links_.find(path);
      if (l == links_.end()) {
        // A link may also pass through a linked directory ("<id>/layer.tar" with "<id>" a symlink).
        bool rewritten = false;
        for (auto dir = std::string(parent_of(path)); !dir.empty(); dir = std::string(parent_of(dir))) {
          if (auto dl = links_.find(dir); dl != links_.end()) {
            path = dl->second.empty() ? path.substr(dir.size() + 1) : dl->second + path.substr(dir.size());
            rewritten = true;
            break;
          }
        }
        if (!rewritten) {
          return make_error(ErrorKind::kImageBlobUnknown,
                            fmt::format("{}: '{}' is not in the archive", who, printable(raw)));
        }
        continue;
      }
      path = l->second;
    }
    return invalid(fmt::format("{}: '{}' goes through more than {} links", who, printable(raw), kMaxLinkHops));
  }

  // A blob by digest: from blobs/sha256/<hex> of this archive, else already in the store.
  Result<uint64_t> blob_size(const Digest& digest, std::string_view who) {
    std::string path = fmt::format("blobs/sha256/{}", digest.hex());
    if (files_.contains(path) || links_.contains(path)) {
      GANTRY_ASSIGN_OR_RETURN(StoredFile f, file_at(path, who));
      if (f.digest != digest) {
        return make_error(
            ErrorKind::kImageDigestInvalid,
            fmt::format("{}: entry '{}' links to a blob of another digest ({})", who, path, f.digest.str()));
      }
      return f.size;
    }
    GANTRY_ASSIGN_OR_RETURN(bool present, store_.exists(digest));
    if (!present) {
      return make_error(ErrorKind::kImageBlobUnknown,
                        fmt::format("{}: blob {} is neither in the archive nor in the store", who, digest.str()));
    }
    return store_.size(digest);
  }

  Status check_descriptor(const Descriptor& d, std::string_view who) {
    auto size = blob_size(d.digest, who);
    if (!size.ok()) {
      if (d.has_urls && size.error().kind == ErrorKind::kImageBlobUnknown) return {};  // foreign layer
      return size.error();
    }
    if (*size != d.size) {
      return make_error(ErrorKind::kImageSizeInvalid, fmt::format("{}: blob {} is {} bytes but its descriptor says {}",
                                                                  who, d.digest.str(), *size, d.size));
    }
    return {};
  }

  Result<std::optional<Platform>> platform_of_config(const Digest& config, std::string_view who) {
    GANTRY_ASSIGN_OR_RETURN(std::string text, store_.read_all(config, options_.max_metadata_bytes));
    GANTRY_ASSIGN_OR_RETURN(json::value v, parse_json(text, who));
    GANTRY_ASSIGN_OR_RETURN(const json::object* o, object_of(v, who));
    return platform_from(*o, who);
  }

  // Adds a manifest to the result (once per digest; references merged), after its children.
  void record(ImportedManifest m) {
    if (auto it = position_.find(m.digest); it != position_.end()) {
      ImportedManifest& old = result_.manifests[it->second];
      old.top_level = old.top_level || m.top_level;
      if (!old.platform) old.platform = m.platform;
      for (auto& r : m.references) add_reference(old, r);
      return;
    }
    ImportedManifest fresh{m.digest, std::move(m.media_type), std::move(m.bytes), m.platform, {}, {}, m.top_level};
    for (auto& r : m.references) add_reference(fresh, r);
    position_.emplace(fresh.digest, result_.manifests.size());
    result_.manifests.push_back(std::move(fresh));
  }

  static void add_reference(ImportedManifest& m, const std::string& reference) {
    if (std::find(m.references.begin(), m.references.end(), reference) == m.references.end()) {
      m.references.push_back(reference);
    }
    if (auto tag = tag_of(reference); tag && std::find(m.tags.begin(), m.tags.end(), *tag) == m.tags.end()) {
      m.tags.push_back(*tag);
    }
  }

  // ---- OCI image layout ----

  Status import_oci() {
    auto layout = meta_.find("oci-layout");
    if (layout == meta_.end()) return invalid("index.json without an oci-layout file: not an OCI image layout");
    {
      GANTRY_ASSIGN_OR_RETURN(json::value v, parse_json(layout->second, "oci-layout"));
      GANTRY_ASSIGN_OR_RETURN(const json::object* o, object_of(v, "oci-layout"));
      GANTRY_ASSIGN_OR_RETURN(auto version, string_member(*o, "imageLayoutVersion", "oci-layout"));
      if (!version || !version->starts_with("1.")) {
        return invalid(fmt::format("oci-layout: unsupported imageLayoutVersion '{}'", printable(version.value_or(""))));
      }
    }
    GANTRY_ASSIGN_OR_RETURN(json::value index, parse_json(meta_["index.json"], "index.json"));
    GANTRY_ASSIGN_OR_RETURN(const json::object* o, object_of(index, "index.json"));
    GANTRY_ASSIGN_OR_RETURN(const json::array* manifests, array_member(*o, "manifests", "index.json", true));
    if (manifests->empty()) return invalid("index.json lists no manifests");
    for (size_t i = 0; i < manifests->size(); ++i) {
      std::string who = fmt::format("index.json manifests[{}]", i);
      GANTRY_ASSIGN_OR_RETURN(Descriptor d, parse_descriptor((*manifests)[i], who));
      GANTRY_RETURN_IF_ERROR(import_manifest(d, who, true, 0));
    }
    return {};
  }

  Status import_manifest(const Descriptor& d, const std::string& who, bool top_level, int depth) {
    if (depth > kMaxIndexDepth) return invalid(fmt::format("{}: indexes nest more than {} deep", who, kMaxIndexDepth));
    GANTRY_RETURN_IF_ERROR(check_descriptor(d, who));
    GANTRY_ASSIGN_OR_RETURN(std::string bytes, store_.read_all(d.digest, options_.max_metadata_bytes));
    std::string what = fmt::format("{} ({})", who, d.digest.str());
    GANTRY_ASSIGN_OR_RETURN(json::value v, parse_json(bytes, what));
    GANTRY_ASSIGN_OR_RETURN(const json::object* o, object_of(v, what));
    GANTRY_ASSIGN_OR_RETURN(auto own_type, string_member(*o, "mediaType", what));
    std::string media_type = own_type.value_or(d.media_type);
    if (own_type && !d.media_type.empty() && *own_type != d.media_type) {
      return invalid(fmt::format("{}: the descriptor says media type '{}' but the manifest says '{}'", what,
                                 printable(d.media_type), printable(*own_type)));
    }
    if (media_type.empty()) {  // OCI 1.0 allowed leaving it out
      media_type = o->contains("manifests") ? kMediaTypeOciIndex : kMediaTypeOciManifest;
    }
    ImportedManifest m{d.digest, media_type, std::move(bytes), std::nullopt, d.references, {}, top_level};
    if (is_manifest_type(media_type)) {
      auto config_it = o->find("config");
      if (config_it == o->end()) return invalid(fmt::format("{}: image manifest has no config", what));
      GANTRY_ASSIGN_OR_RETURN(Descriptor config, parse_descriptor(config_it->value(), what + " config"));
      GANTRY_RETURN_IF_ERROR(check_descriptor(config, what + " config"));
      GANTRY_ASSIGN_OR_RETURN(const json::array* layers, array_member(*o, "layers", what, true));
      for (size_t i = 0; i < layers->size(); ++i) {
        std::string lwho = fmt::format("{} layers[{}]", what, i);
        GANTRY_ASSIGN_OR_RETURN(Descriptor layer, parse_descriptor((*layers)[i], lwho));
        GANTRY_RETURN_IF_ERROR(check_descriptor(layer, lwho));
      }
      m.platform = d.platform;
      if (!m.platform) {
        GANTRY_ASSIGN_OR_RETURN(m.platform, platform_of_config(config.digest, what + " config"));
      }
    } else if (is_index_type(media_type)) {
      GANTRY_ASSIGN_OR_RETURN(const json::array* children, array_member(*o, "manifests", what, true));
      for (size_t i = 0; i < children->size(); ++i) {
        std::string cwho = fmt::format("{} manifests[{}]", what, i);
        GANTRY_ASSIGN_OR_RETURN(Descriptor child, parse_descriptor((*children)[i], cwho));
        GANTRY_RETURN_IF_ERROR(import_manifest(child, cwho, false, depth + 1));
      }
    } else {
      return invalid(fmt::format("{}: unsupported manifest media type '{}'", what, printable(media_type)));
    }
    record(std::move(m));
    return {};
  }

  // ---- docker save ----

  Status import_docker() {
    GANTRY_ASSIGN_OR_RETURN(json::value v, parse_json(meta_["manifest.json"], "manifest.json"));
    if (!v.is_array() || v.get_array().empty()) return invalid("manifest.json is not a non-empty JSON array");
    const auto& images = v.get_array();
    for (size_t i = 0; i < images.size(); ++i) {
      GANTRY_RETURN_IF_ERROR(import_docker_image(images[i], fmt::format("manifest.json[{}]", i)));
    }
    return {};
  }

  Status import_docker_image(const json::value& item, const std::string& who) {
    GANTRY_ASSIGN_OR_RETURN(const json::object* o, object_of(item, who));
    GANTRY_ASSIGN_OR_RETURN(auto config_path, string_member(*o, "Config", who));
    if (!config_path) return invalid(fmt::format("{} has no Config", who));
    std::vector<std::string> references;
    GANTRY_ASSIGN_OR_RETURN(const json::array* tags, array_member(*o, "RepoTags", who, false));
    if (tags != nullptr) {
      for (const auto& t : *tags) {
        if (!t.is_string()) return invalid(fmt::format("{}: RepoTags holds a non-string", who));
        references.emplace_back(t.get_string());
      }
    }
    std::string label = references.empty() ? who : fmt::format("{} ({})", who, references.front());

    GANTRY_ASSIGN_OR_RETURN(StoredFile config, file_at(*config_path, label + " Config"));
    std::string_view config_base = base_of(*config_path);
    if (config_base.size() == 69 && config_base.ends_with(".json") && is_lower_hex64(config_base.substr(0, 64)) &&
        config_base.substr(0, 64) != config.digest.hex()) {
      return make_error(ErrorKind::kImageDigestInvalid,
                        fmt::format("{}: config '{}' does not hash to its name (its content is {})", label,
                                    printable(*config_path), config.digest.str()));
    }
    GANTRY_ASSIGN_OR_RETURN(std::string config_text, store_.read_all(config.digest, options_.max_metadata_bytes));
    std::string config_what = fmt::format("{}: config '{}'", label, printable(*config_path));
    GANTRY_ASSIGN_OR_RETURN(json::value config_json, parse_json(config_text, config_what));
    GANTRY_ASSIGN_OR_RETURN(const json::object* cfg, object_of(config_json, config_what));
    auto rootfs = cfg->find("rootfs");
    if (rootfs == cfg->end() || !rootfs->value().is_object()) {
      return invalid(fmt::format("{} has no rootfs", config_what));
    }
    GANTRY_ASSIGN_OR_RETURN(const json::array* diff_ids,
                            array_member(rootfs->value().get_object(), "diff_ids", config_what + " rootfs", true));
    GANTRY_ASSIGN_OR_RETURN(const json::array* layers, array_member(*o, "Layers", who, true));
    if (layers->size() != diff_ids->size()) {
      return invalid(
          fmt::format("{} lists {} layers but its config has {} diff_ids", label, layers->size(), diff_ids->size()));
    }

    json::array layer_descriptors;
    for (size_t i = 0; i < layers->size(); ++i) {
      if (!(*layers)[i].is_string()) return invalid(fmt::format("{}: Layers[{}] is not a string", label, i));
      std::string layer_path((*layers)[i].get_string());
      std::string lwho = fmt::format("{} layer '{}'", label, printable(layer_path));
      GANTRY_ASSIGN_OR_RETURN(StoredFile layer, file_at(layer_path, lwho));
      if (!(*diff_ids)[i].is_string()) return invalid(fmt::format("{}: diff_ids[{}] is not a string", config_what, i));
      auto expected = Digest::parse(std::string((*diff_ids)[i].get_string()));
      if (!expected.ok()) {
        return make_error(ErrorKind::kImageDigestInvalid,
                          fmt::format("{} diff_ids[{}]: {}", config_what, i, expected.error().message));
      }
      GANTRY_ASSIGN_OR_RETURN(BlobReader head, store_.open_read(layer.digest, 0, std::min<uint64_t>(layer.size, 4)));
      std::array<uint8_t, 4> magic{};
      GANTRY_ASSIGN_OR_RETURN(size_t got, head.read(magic));
      std::string_view media_type = kMediaTypeDockerLayer;
      Digest diff_id = layer.digest;
      if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        media_type = kMediaTypeDockerLayerGzip;
        GANTRY_ASSIGN_OR_RETURN(diff_id, gunzip_digest(store_, layer.digest, lwho));
      } else if (got == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
        return invalid(
            fmt::format("{} is zstd-compressed; Docker schema 2 manifests carry plain or gzip layers", lwho));
      }
      if (diff_id != *expected) {
        return make_error(ErrorKind::kImageDigestInvalid,
                          fmt::format("{}: its uncompressed content is {} but the config's diff_ids[{}] is {}", lwho,
                                      diff_id.str(), i, expected->str()));
      }
      layer_descriptors.push_back(
          json::object{{"mediaType", media_type}, {"size", layer.size}, {"digest", layer.digest.str()}});
    }

    json::object manifest{
        {"schemaVersion", 2},
        {"mediaType", kMediaTypeDockerManifest},
        {"config",
         json::object{{"mediaType", kMediaTypeDockerConfig}, {"size", config.size}, {"digest", config.digest.str()}}},
        {"layers", std::move(layer_descriptors)},
    };
    std::string bytes = json::serialize(manifest);
    Digest digest = sha256_of(bytes);
    GANTRY_ASSIGN_OR_RETURN(bool present, store_.exists(digest));
    GANTRY_RETURN_IF_ERROR(store_.put(bytes, digest));
    if (!present) {
      ++result_.blobs_added;
      result_.bytes_added += bytes.size();
    }
    GANTRY_ASSIGN_OR_RETURN(auto platform, platform_from(*cfg, config_what));
    record(ImportedManifest{
        digest, std::string(kMediaTypeDockerManifest), std::move(bytes), platform, std::move(references), {}, true});
    return {};
  }

  std::string name_;
  BlobStore& store_;
  const ArchiveImportOptions& options_;
  ArchiveImport result_;
  std::string last_;                          // the last entry read, for messages
  uint64_t total_ = 0;                        // file content read so far
  std::set<std::string> seen_;                // every file and link path
  std::map<std::string, StoredFile> files_;   // regular files, stored
  std::map<std::string, std::string> links_;  // link path -> target path (archive-relative)
  std::map<std::string, std::string> meta_;   // top-level metadata files, in memory
  std::map<Digest, size_t> position_;         // manifest digest -> index in result_.manifests
};

Result<std::unique_ptr<struct archive, ArchiveFree>> new_reader(std::string_view name) {
  std::unique_ptr<struct archive, ArchiveFree> ar(archive_read_new());
  if (!ar) return make_error(ErrorKind::kInternal, "archive_read_new failed");
  archive_read_support_format_tar(ar.get());
  // gzip through libarchive's zlib; an archive that is not gzip passes through the "none" filter.
  if (archive_read_support_filter_gzip(ar.get()) != ARCHIVE_OK) {
    return make_error(ErrorKind::kInternal,
                      fmt::format("import {}: libarchive was built without zlib; cannot read gzip", name));
  }
  return ar;
}

Result<ArchiveImport> run_import(struct archive* ar, std::string name, BlobStore& store,
                                 const ArchiveImportOptions& options) {
  try {
    Importer importer(std::move(name), store, options);
    return importer.run(ar);
  } catch (const std::exception& e) {  // std::bad_alloc, boost::json's length errors
    return make_error(ErrorKind::kInternal, fmt::format("import failed: {}", e.what()));
  }
}

}  // namespace

Result<ArchiveImport> import_image_archive(const std::filesystem::path& path, BlobStore& store,
                                           const ArchiveImportOptions& options) {
  std::string name = path.string();
  GANTRY_ASSIGN_OR_RETURN(auto ar, new_reader(name));
  if (archive_read_open_filename(ar.get(), name.c_str(), kChunk) != ARCHIVE_OK) {
    const char* why = archive_error_string(ar.get());
    int err = archive_errno(ar.get());
    return make_error(
        err == ENOENT || err == EACCES || err == EISDIR ? ErrorKind::kInternal : ErrorKind::kImageLayerInvalid,
        fmt::format("import {}: cannot open the archive: {}", name, why ? why : "unknown error"));
  }
  return run_import(ar.get(), std::move(name), store, options);
}

Result<ArchiveImport> import_image_archive_fd(int fd, std::string_view name, BlobStore& store,
                                              const ArchiveImportOptions& options) {
  GANTRY_ASSIGN_OR_RETURN(auto ar, new_reader(name));
  if (archive_read_open_fd(ar.get(), fd, kChunk) != ARCHIVE_OK) {
    const char* why = archive_error_string(ar.get());
    return make_error(ErrorKind::kImageLayerInvalid,
                      fmt::format("import {}: cannot read the archive: {}", name, why ? why : "unknown error"));
  }
  return run_import(ar.get(), std::string(name), store, options);
}

}  // namespace gantry::image
