#include "supervisor/image_ref.h"

#include <fmt/format.h>

#include <regex>

#include "image/digest.h"

namespace gantry::supervisor {

namespace {

Error bad(std::string_view text, std::string_view why) {
  return make_error(ErrorKind::kRuntimeImageInvalid,
                    fmt::format("invalid reference format '{}': {}", text.substr(0, 256), why));
}

bool valid_repository(std::string_view repo) {
  static const std::regex re("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
  return repo.size() <= 256 && std::regex_match(repo.begin(), repo.end(), re);
}

bool valid_tag(std::string_view tag) {
  static const std::regex re("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return std::regex_match(tag.begin(), tag.end(), re);
}

}  // namespace

Result<ImageRef> parse_image_ref(std::string_view text) {
  if (text.empty()) return bad(text, "empty");
  ImageRef ref;
  std::string_view rest = text;
  // The first component is a registry host when it has a '.' or ':' or is "localhost" (Docker's rule).
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    auto first = rest.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost" || first.starts_with('[')) {
      ref.host = std::string(first);
      rest = rest.substr(slash + 1);
    }
  }
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    static const std::regex digest_re("sha256:[a-f0-9]{64}");
    if (!std::regex_match(ref.digest, digest_re)) return bad(text, "the digest must be sha256:<64 hex digits>");
  }
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos && rest.find('/', colon) == std::string_view::npos) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(ref.tag)) return bad(text, "the tag is not valid");
  }
  if (!ref.host.empty()) {
    static const std::regex host_re(
        "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]+\\])"
        "(?::[0-9]{1,5})?");
    if (!std::regex_match(ref.host, host_re)) return bad(text, "the registry host is not valid");
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  ref.repository = std::string(rest);
  if (!valid_repository(ref.repository)) return bad(text, "the repository name must be lowercase");
  // <account>.dkr.ecr.<region>.<domain>
  std::string host = ref.host.substr(0, ref.host.rfind(':') == std::string::npos || ref.host.starts_with('[')
                                            ? ref.host.size()
                                            : ref.host.rfind(':'));
  static const std::regex ecr_re("([0-9]{12})\\.dkr\\.ecr(?:-fips)?\\.([a-z0-9-]+)\\..+");
  std::smatch m;
  if (std::regex_match(host, m, ecr_re)) ref.scope = Scope{m[1].str(), m[2].str()};
  return ref;
}

bool is_local_registry(const ImageRef& ref) {
  if (ref.scope) return true;
  std::string_view h = ref.host;
  auto port_free = [&](std::string_view name) { return h == name || h.starts_with(std::string(name) + ":"); };
  return port_free("127.0.0.1") || port_free("localhost") || port_free("[::1]");
}

Result<std::pair<runtime::ResolvedImage, std::string>> resolve_local_image(runtime::Os& os, ecr::EcrStore& ecr,
                                                                          image::BlobStore& blobs,
                                                                          const Scope& task_scope,
                                                                          const std::string& text) {
    GANTRY_ASSIGN_OR_RETURN(auto ref, parse_image_ref(text));
  if (!is_local_registry(ref)) {
    return make_error(ErrorKind::kRuntimeImageInvalid,
                      ref.host.empty()
                          ? fmt::format("'{}' names Docker Hub; Gantry runs images from its own registry only (it "
                                        "never pulls from the internet): push the image to Gantry's registry and "
                                        "use its repository URI",
                                        text)
                          : fmt::format("'{}' is another registry; Gantry runs images from its own registry only "
                                        "(<account>.dkr.ecr.<region>.localhost:<port>/<repository> or "
                                        "127.0.0.1:<port>/<repository>)",
                                        ref.host));
  }
  Scope scope = ref.scope.value_or(task_scope);
  std::string digest = ref.digest;
  Status found = ecr.read([&](ecr::EcrTables& t) -> Status {
    auto repo = t.find_repository(scope, ref.repository);
    if (!repo)
      return make_error(ErrorKind::kEcrRepositoryNotFound,
                        fmt::format("repository '{}' does not exist in the registry of account {} in {}",
                                    ref.repository, scope.account, scope.region));
    if (digest.empty()) {
      auto d = t.tag_digest(scope, ref.repository, ref.tag);
      if (!d)
        return make_error(ErrorKind::kEcrImageNotFound,
                          fmt::format("{}:{}: not found: manifest unknown: the repository has no image tagged '{}'",
                                      ref.repository, ref.tag, ref.tag));
      digest = *d;
    } else if (!t.find_image(scope, ref.repository, digest)) {
      return make_error(ErrorKind::kEcrImageNotFound,
                        fmt::format("{}@{}: not found: manifest unknown", ref.repository, digest));
    }
    return {};
  });
  GANTRY_RETURN_IF_ERROR(found);
  GANTRY_ASSIGN_OR_RETURN(auto manifest, image::Digest::parse(digest));
  // Manifests live in the ECR store (an index's entries too, pushed by digest to the same repository).
  auto manifests = [&](const image::Digest& want) -> Result<std::string> {
    std::string bytes;
    GANTRY_RETURN_IF_ERROR(ecr.read([&](ecr::EcrTables& t) -> Status {
      auto image = t.find_image(scope, ref.repository, want.str());
      if (!image)
        return make_error(ErrorKind::kEcrImageNotFound,
                          fmt::format("{}@{}: not found: manifest unknown", ref.repository, want.str()));
      bytes = image->manifest;
      return {};
    }));
    return bytes;
  };
  GANTRY_ASSIGN_OR_RETURN(auto resolved, runtime::resolve_image(os, runtime::blob_store_blobs(blobs),
                                                                manifest, "amd64", manifests));
  return std::make_pair(std::move(resolved), digest);
}

}  // namespace gantry::supervisor
