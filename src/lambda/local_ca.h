// Gantry's own certificate authority, so SDKs that ignore AWS_ENDPOINT_URL (boto3 < 1.28, which the
// seed bundles) still reach Gantry from a sandbox: there the AWS host names resolve to loopback, where
// Gantry answers TLS with a certificate this CA issued, and the sandbox trusts the CA (AWS_CA_BUNDLE,
// SSL_CERT_FILE). Nothing outside the sandbox trusts it; the host's trust store is never touched.
//
// The CA's key (EC P-256) lives in <dir>/ca.key (0600) and never enters a sandbox; its certificate
// (<dir>/ca.pem, 10 years) does. Server certificates are issued per region, in memory only, for
// *.amazonaws.com, *.<region>.amazonaws.com and *.ecr.<region>.amazonaws.com.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"

namespace gantry::sandbox {

struct ServerCertificate {
  std::string cert_pem;  // the server certificate, then the CA's
  std::string key_pem;
};

class LocalCa {
 public:
  // Reads the CA from `dir`, or makes one there (the directory is created, mode 0700).
  static Result<std::unique_ptr<LocalCa>> load_or_create(const std::filesystem::path& dir);
  ~LocalCa();

  const std::string& ca_pem() const { return ca_pem_; }
  // A server certificate (valid for a year from now) for the AWS host names of `region`.
  Result<ServerCertificate> issue(const std::string& region);

  struct Keys;

 private:
  LocalCa() = default;
  std::string ca_pem_;
  std::unique_ptr<Keys> keys_;
  std::mutex mu_;
};

// The host names an SDK uses for Gantry's services in `region`, which a sandbox's /etc/hosts maps to
// loopback.
std::vector<std::string> aws_host_names(const std::string& region);

}  // namespace gantry::sandbox
