// Blob uploads: POST (start, monolithic with ?digest=, cross-repository mount), PATCH (chunks, with or
// without Content-Range; resumable), PUT ?digest= (last chunk and commit), GET (status), DELETE.
#include <fmt/format.h>

#include "image/digest.h"
#include "registry/internal.h"
#include "registry/parse.h"

namespace gantry::registry {

namespace {

std::string upload_location(const Call& call, std::string_view id) {
  return fmt::format("/v2/{}/blobs/uploads/{}", call.route.name, id);
}

// The Range header of an upload: the bytes received so far, "0-<last>" ("0-0" when none, as
// distribution writes it).
std::string received_range(uint64_t size) { return fmt::format("0-{}", size == 0 ? 0 : size - 1); }

http::Response upload_accepted(const Call& call, std::string_view id, uint64_t size, int status) {
  http::Response r = reply(status);
  r.set_header("Location", upload_location(call, id));
  r.set_header("Range", received_range(size));
  r.set_header("Docker-Upload-UUID", std::string(id));
  return r;
}

http::Response blob_created(const Call& call, const image::Digest& digest) {
  http::Response r = reply(201);
  r.set_header("Location", fmt::format("/v2/{}/blobs/{}", call.route.name, digest.str()));
  r.set_header("Docker-Content-Digest", digest.str());
  return r;
}

// An out-of-order chunk: 416 with the upload's current Range, so the client resumes from there.
http::Response offset_error(const Call& call, std::string_view id, const Error& e, uint64_t size) {
  http::Response r = oci_error(e);
  r.set_header("Location", upload_location(call, id));
  r.set_header("Range", received_range(size));
  r.set_header("Docker-Upload-UUID", std::string(id));
  return r;
}

// Links a committed blob to the repository and forgets the upload record.
Status link(Call& call, const image::Digest& digest, uint64_t size, std::string_view upload_id) {
  return call.env.store.write([&](ecr::EcrTables& t) -> Status {
    t.link_blob(call.scope, call.route.name, digest.str(), size);
    if (!upload_id.empty()) t.delete_upload(upload_id);
    return {};
  });
}

Status forget(Call& call, std::string_view upload_id) {
  return call.env.store.write([&](ecr::EcrTables& t) -> Status {
    t.delete_upload(upload_id);
    return {};
  });
}

// Streams a request body into an upload. With `commit_digest`, the upload is committed when the body
// ends (monolithic POST, final PUT); otherwise the answer is 202 with the new Range (PATCH).
// `transient` uploads (monolithic POST) exist only for this request and are cancelled if it fails
// or the client goes away.
class UploadSink final : public http::BodySink {
 public:
  UploadSink(Call call, std::string id, uint64_t offset, std::optional<image::Digest> commit_digest, bool transient)
      : request_(call.request),
        call_{call.env, call.scope, call.route, request_, call.authorize},
        id_(std::move(id)),
        offset_(offset),
        digest_(std::move(commit_digest)),
        transient_(transient) {}

  ~UploadSink() override {
    if (!done_ && transient_) (void)call_.env.blobs.cancel(id_);
  }

  Status write(std::string_view chunk) override {
    auto size = call_.env.blobs.append(id_, chunk, offset_);
    if (!size) return size.error();
    offset_ = *size;
    return {};
  }

  http::Response finish() override {
    done_ = true;
    if (!digest_) return upload_accepted(call_, id_, offset_, 202);
    auto size = call_.env.blobs.commit(id_, *digest_);
    if (!size) {
      // A failed commit ends the upload (the store deletes a mismatching one): nothing stays behind.
      (void)call_.env.blobs.cancel(id_);
      (void)forget(call_, id_);
      return oci_error(size.error());
    }
    if (auto st = link(call_, *digest_, *size, transient_ ? std::string_view{} : std::string_view(id_)); !st)
      return oci_error(st.error());
    return blob_created(call_, *digest_);
  }

  http::Response fail(const Error& error) override {
    done_ = true;
    if (transient_) {
      (void)call_.env.blobs.cancel(id_);
      return oci_error(error);
    }
    auto size = call_.env.blobs.upload_size(id_);
    if (error.kind == ErrorKind::kImageUploadOffset && size) return offset_error(call_, id_, error, *size);
    return oci_error(error);
  }

 private:
  http::Request request_;  // headers only; the Call below points at it
  Call call_;
  std::string id_;
  uint64_t offset_;
  std::optional<image::Digest> digest_;
  bool transient_;
  bool done_ = false;
};

// The upload id of the route, checked to belong to the call's repository.
Result<std::string> own_upload(Call& call) {
  bool known = false;
  GANTRY_RETURN_IF_ERROR(call.env.store.read([&](ecr::EcrTables& t) -> Status {
    known = t.has_upload(call.scope, call.route.name, call.route.ref);
    return {};
  }));
  if (!known)
    return make_error(ErrorKind::kImageUploadUnknown,
                      fmt::format("no upload '{}' in repository '{}'", call.route.ref.substr(0, 64), call.route.name));
  return call.route.ref;
}

std::optional<image::Digest> mount_source(Call& call, const image::Digest& digest, std::string_view from) {
  // Mounting reads the source repository: the caller must be allowed to pull from it.
  if (call.authorize) {
    for (std::string_view action : {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"})
      if (!call.authorize(action, std::string(from)).ok()) return std::nullopt;
  }
  std::optional<uint64_t> size;
  auto st = call.env.store.read([&](ecr::EcrTables& t) -> Status {
    if (t.find_repository(call.scope, from)) size = t.blob_size(call.scope, from, digest.str());
    return {};
  });
  if (!st || !size) return std::nullopt;
  auto present = call.env.blobs.exists(digest);
  if (!present || !*present) return std::nullopt;
  if (!link(call, digest, *size, {})) return std::nullopt;
  return digest;
}

}  // namespace

http::HeadDecision start_upload(Call& call) {
  auto repo = find_repository(call);
  if (!repo) return oci_error(repo.error());
  std::string_view query = call.request.query();
  if (auto mount = query_param(query, "mount")) {
    auto digest = image::Digest::parse(*mount);
    if (!digest) return oci_error(digest.error());
    if (auto from = query_param(query, "from"); from && mount_source(call, *digest, *from))
      return blob_created(call, *digest);
    // Not mountable: start an ordinary upload, as the distribution spec says.
  }
  auto digest_param = query_param(query, "digest");
  std::optional<image::Digest> digest;
  if (digest_param) {
    auto parsed = image::Digest::parse(*digest_param);
    if (!parsed) return oci_error(parsed.error());
    digest = *parsed;
  }
  auto id = call.env.blobs.begin_upload();
  if (!id) return oci_error(id.error());
  if (digest) return std::unique_ptr<http::BodySink>(new UploadSink(call, *id, 0, digest, /*transient=*/true));
  auto st = call.env.store.write([&](ecr::EcrTables& t) -> Status {
    t.put_upload(call.scope, call.route.name, *id);
    return {};
  });
  if (!st) {
    (void)call.env.blobs.cancel(*id);
    return oci_error(st.error());
  }
  // A POST with a body but no digest: the body is the first chunk.
  return std::unique_ptr<http::BodySink>(new UploadSink(call, *id, 0, std::nullopt, false));
}

http::HeadDecision patch_upload(Call& call) {
  auto id = own_upload(call);
  if (!id) return oci_error(id.error());
  auto size = call.env.blobs.upload_size(*id);
  if (!size) return oci_error(size.error());
  std::string_view content_range = call.request.header("content-range");
  uint64_t offset = *size;
  if (!content_range.empty()) {
    auto range = parse_content_range(content_range);
    if (!range)
      return oci_error(make_error(ErrorKind::kImageUploadInvalid,
                                  fmt::format("malformed Content-Range '{}'", content_range.substr(0, 64))));
    if (range->first != *size)
      return offset_error(call, *id,
                          make_error(ErrorKind::kImageUploadOffset,
                                     fmt::format("upload {} has {} bytes; a chunk starting at {} does not follow on",
                                                 *id, *size, range->first)),
                          *size);
    offset = range->first;
  }
  return std::unique_ptr<http::BodySink>(new UploadSink(call, *id, offset, std::nullopt, false));
}

http::HeadDecision finish_upload(Call& call) {
  auto id = own_upload(call);
  if (!id) return oci_error(id.error());
  auto digest_param = query_param(call.request.query(), "digest");
  if (!digest_param)
    return oci_error(make_error(ErrorKind::kImageDigestInvalid, "completing an upload needs ?digest=sha256:..."));
  auto digest = image::Digest::parse(*digest_param);
  if (!digest) return oci_error(digest.error());
  auto size = call.env.blobs.upload_size(*id);
  if (!size) return oci_error(size.error());
  return std::unique_ptr<http::BodySink>(new UploadSink(call, *id, *size, *digest, false));
}

http::Response upload_status(Call& call) {
  auto id = own_upload(call);
  if (!id) return oci_error(id.error());
  auto size = call.env.blobs.upload_size(*id);
  if (!size) return oci_error(size.error());
  return upload_accepted(call, *id, *size, 204);
}

http::Response cancel_upload(Call& call) {
  auto id = own_upload(call);
  if (!id) return oci_error(id.error());
  auto st = call.env.blobs.cancel(*id);
  if (!st && st.error().kind != ErrorKind::kImageUploadUnknown) return oci_error(st.error());
  if (auto f = forget(call, *id); !f) return oci_error(f.error());
  return reply(204);
}

}  // namespace gantry::registry
