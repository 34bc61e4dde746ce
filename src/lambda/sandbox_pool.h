// Runs Lambda functions: warm sandboxes under the OCI runtime, the Runtime API they talk to, logs.
//
// A sandbox is one runc container running Gantry's Python runtime client (runtime/python/bootstrap.py)
// for one version of one function:
//   root: a small read-only directory of Gantry's (data/lambda/rootfs) with the host's /usr (and the
//   Python installation, when it lives elsewhere) bound read-only into it — the machine's Python with its
//   boto3; the package at /var/task, the runtime client at /var/runtime (both read-only), /tmp a tmpfs of
//   EphemeralStorage MB; memory limit = MemorySize, cpu shares in proportion to it (1769 MB = one vCPU,
//   as Lambda allots cpu); user 993:990 (Lambda's sbx_user1051).
//   network: its own namespace with loopback only, where Gantry listens on 127.0.0.1:9001 (the Runtime
//   API, AWS_LAMBDA_RUNTIME_API) and 127.0.0.1:4566 (Gantry's own API, AWS_ENDPOINT_URL), so the
//   function's SDK reaches Gantry and nothing else. SDKs that ignore AWS_ENDPOINT_URL (boto3 < 1.28) find
//   the AWS host names of the function's region on 127.0.0.1 too (/etc/hosts), where Gantry answers TLS
//   on port 443 with a certificate of its own CA (local_ca.h), which the sandbox trusts (AWS_CA_BUNDLE,
//   SSL_CERT_FILE, REQUESTS_CA_BUNDLE: /var/runtime/ca.pem) and relays the requests to its API.
//   credentials: a session of the function's role for lambda.amazonaws.com (AWS_ACCESS_KEY_ID, ...).
// Image functions: the image's layers (Gantry's registry, unpacked once into the layer cache the task
// supervisor shares) as a read-only overlay root, its ENTRYPOINT/CMD/WORKDIR unless the function's
// ImageConfig overrides them, its environment under Lambda's; the image brings its own runtime client.
// One invocation at a time per sandbox; an idle sandbox of the same configuration is reused (warm start),
// otherwise a new one starts, up to the function's reserved concurrency (TooManyRequestsException past
// it). A timeout kills the sandbox. Idle sandboxes stop after `idle_seconds`; none lives longer than its
// credentials.
//
// Logs go to /aws/lambda/<function> (or the function's LoggingConfig group), one stream per sandbox named
// YYYY/MM/DD/[<version>]<32 hex>, with START / END / REPORT lines as Lambda writes them; with IAM
// enforced, only when the role may write them (logs:CreateLogGroup, CreateLogStream, PutLogEvents), as on
// Lambda. The runtime client writes a marker line after each invocation's output, so END never overtakes
// the function's last lines.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/random.h"
#include "runtime/os.h"
#include "services/lambda/invoker.h"
#include "image/blob_store.h"
#include "services/ecr/model.h"
#include "services/logs/sink.h"

namespace gantry::sandbox {

struct PoolOptions {
  std::filesystem::path data_dir;
  std::string oci_runtime = "runc";
  // The interpreters .zip functions run on, each a path or a name looked up in PATH: each one's version is a
  // runtime ("python3.11"); the first of a version wins.
  std::vector<std::string> pythons = {"python3"};
  std::chrono::seconds idle = std::chrono::seconds(300);
  std::chrono::seconds async_retry_delay = std::chrono::seconds(60);  // then twice that (Lambda: 1 and 2 min)
  std::chrono::seconds async_max_age = std::chrono::hours(6);
};

struct RoleCredentials {
  std::string access_key_id;
  std::string secret;
  std::string token;
  TimePoint expiration;
};

struct PoolDeps {
  runtime::Os& os;
  logs::Sink& logs;
  ecr::EcrStore& ecr;       // images of Image functions, from Gantry's registry
  image::BlobStore& blobs;
  const Clock& clock;
  Random& random;
  // A session of `role_arn` for lambda.amazonaws.com; an error when Lambda cannot assume it.
  std::function<Result<RoleCredentials>(const Scope&, const std::string& role_arn, const std::string& session)>
      role_credentials;
  // With IAM enforced: may the role's session do `action` on `resource`? Unset: always.
  std::function<bool(const Scope&, const std::string& role_arn, const std::string& session, std::string_view action,
                     const std::string& resource)>
      role_allows;
  // Serve Gantry's API on a listening socket made inside a sandbox; returns an id for stop_api.
  std::function<Result<uint64_t>(int listen_fd)> serve_api;
  std::function<void(uint64_t id)> stop_api;
  // Where Gantry's API listens on the host, for the TLS relay of SDKs that ignore AWS_ENDPOINT_URL.
  std::string api_host = "127.0.0.1";
  std::function<uint16_t()> api_port;
};

class SandboxPool final : public lambda::Invoker {
 public:
  // Never fails: a host that cannot run functions gives a pool whose unavailable_reason() says why.
  static std::unique_ptr<SandboxPool> create(PoolDeps deps, PoolOptions options);
  ~SandboxPool() override;

  std::string unavailable_reason() const override;
  std::vector<std::string> runtimes() const override;
  Result<ImageFound> resolve_image(const Scope& scope, const std::string& image_uri) override;
  bool uses_code(const std::filesystem::path& code_dir) const override;
  void prepare_image(const Scope& scope, const std::string& image, std::function<void(Status)> done) override;
  void invoke(lambda::Invocation invocation, std::function<void(Result<lambda::InvocationResult>)> done) override;
  void enqueue(lambda::Invocation invocation) override;
  void retire(const Scope& scope, const std::string& function_name) override;

  // Stops every sandbox (in-flight invocations fail) and waits for their threads.
  void shutdown();
  // POST /_gantry/reset: drops queued asynchronous invocations, kills every sandbox and waits for them.
  void stop_all_for_reset();

  struct Stats {
    size_t sandboxes = 0;
    size_t busy = 0;
    size_t queued_async = 0;
  };
  Stats stats() const;

  class Impl;

 private:
  explicit SandboxPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::sandbox
