// One error policy for all of Gantry: operations return Result<T>; an Error names an ErrorKind and
// carries a message for a person. The single table in error.cpp maps each kind to the AWS wire shape
// (error type, HTTP status, sender/receiver fault), so a service never spells a wire error itself.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gantry {

enum class ErrorKind {
  // Edge: protocol, routing, authentication. Shared by every service.
  kSerialization,           // body is not what the protocol/shape says (wrong JSON type, bad JSON)
  kUnknownOperation,        // no such operation in the service's model
  kUnknownOperation404,     // rest-json: no operation at that method and path
  kUnsupportedOperation,    // a real AWS operation Gantry does not implement (yet)
  kUnknownService,          // request could not be routed to any service
  kMissingAuthentication,   // no SigV4 signature at all
  kIncompleteSignature,     // a SigV4 signature that is not well formed
  // A signature that does not verify, by protocol (AWS names these differently per protocol):
  kAuthUnrecognizedClient,     // json: unknown access key (400 UnrecognizedClientException)
  kAuthUnrecognizedClient403,  // rest-json: the same, 403
  kAuthInvalidClientTokenId,   // query: unknown access key (403 InvalidClientTokenId)
  kAuthInvalidSignature,       // json: wrong or expired signature (400 InvalidSignatureException)
  kAuthInvalidSignature403,    // rest-json: the same, 403
  kAuthSignatureDoesNotMatch,  // query: wrong or expired signature (403 SignatureDoesNotMatch)
  kAuthFailure,                // ec2: unknown key or wrong signature (401 AuthFailure)
  kAuthRequestExpired,         // ec2: expired signature or temporary credentials (400 RequestExpired)
  kAuthExpiredToken,           // json: temporary credentials past expiry (400 ExpiredTokenException)
  kAuthExpiredToken403,        // rest-json: the same, 403
  kAuthExpiredTokenQuery,      // query: the same (403 ExpiredToken)
  // Authenticated but not allowed by IAM policy, by protocol:
  kAccessDenied,               // json: 400 AccessDeniedException
  kAccessDenied403,            // rest-json: 403 AccessDeniedException
  kAccessDeniedQuery,          // query: 403 AccessDenied
  kUnauthorizedOperation,      // ec2: 403 UnauthorizedOperation
  kRequestTooLarge,         // body over the limit
  kInvalidAction,           // query protocol: unknown Action
  kInternal,                // a bug or an unexpected failure on our side
  kNotFound,                // no route for the path (edge only)
  // Validation error type of a service (each service names its own, see ServiceErrors).
  kValidation,
  // ECS
  kEcsClient,
  kEcsServer,
  kEcsInvalidParameter,
  kEcsClusterNotFound,
  kEcsClusterContainsTasks,
  kEcsServiceNotFound,
  kEcsClusterContainsServices,
  kEcsClusterContainsContainerInstances,
  kEcsResourceNotFound,
  kEcsResourceInUse,
  kEcsLimitExceeded,
  kEcsUpdateInProgress,
  // Images: the blob store and layer unpacking. The wire shapes are the OCI distribution error codes;
  // the ECR JSON API maps these kinds to its own exception names itself.
  kImageDigestInvalid,   // malformed digest, or content that does not hash to the named digest
  kImageBlobUnknown,     // no blob with that digest
  kImageUploadUnknown,   // no upload session with that id (never begun, committed or cancelled)
  kImageUploadOffset,    // a chunk that does not start at the upload's current size
  kImageUploadInvalid,   // an upload that cannot be completed as asked
  kImageRangeInvalid,    // a read range outside the blob
  kImageSizeInvalid,     // content larger than allowed, or of a size other than the one declared
  kImageLayerInvalid,    // a layer tarball rejected on unpack (escaping paths, devices, caps, corrupt)
  // ECR (json 1.1 API); the registry maps the ones it meets to OCI codes itself (registry/errors.cpp).
  kEcrServer,
  kEcrInvalidParameter,
  kEcrInvalidTagParameter,
  kEcrTooManyTags,
  kEcrRepositoryNotFound,
  kEcrRepositoryAlreadyExists,
  kEcrRepositoryNotEmpty,
  kEcrRepositoryPolicyNotFound,
  kEcrImageNotFound,
  kEcrImageAlreadyExists,
  kEcrImageTagAlreadyExists,
  kEcrImageDigestDoesNotMatch,
  kEcrLayersNotFound,
  kEcrReferencedImagesNotFound,
  kEcrLimitExceeded,
  // CloudWatch Logs (json 1.1 API): Logs' own exception names.
  kIamNoSuchEntity,
  kIamEntityAlreadyExists,
  kIamDeleteConflict,
  kIamMalformedPolicyDocument,
  kIamLimitExceeded,
  kIamInvalidInput,

  kLogsResourceNotFound,
  kLogsResourceAlreadyExists,
  kLogsInvalidParameter,
  kLogsInvalidSequenceToken,
  kLogsDataAlreadyAccepted,
  kLogsLimitExceeded,
  kLogsTooManyTags,
  kLogsServiceUnavailable,
  kLogsUnrecognizedClient,
  // Lambda (rest-json): Lambda's own exception names.
  kLambdaResourceNotFound,        // 404 ResourceNotFoundException
  kLambdaResourceConflict,        // 409 ResourceConflictException
  kLambdaInvalidParameterValue,   // 400 InvalidParameterValueException
  kLambdaInvalidRequestContent,   // 400 InvalidRequestContentException (a payload that is not JSON)
  kLambdaRequestTooLarge,         // 413 RequestTooLargeException (an Invoke payload over 6 MB)
  kLambdaTooManyRequests,         // 429 TooManyRequestsException (concurrency)
  kLambdaPreconditionFailed,      // 412 PreconditionFailedException (RevisionId mismatch)
  kLambdaPolicyLengthExceeded,    // 400 PolicyLengthExceededException
  kLambdaResourceNotReady,        // 502 ResourceNotReadyException
  kLambdaService,                 // 500 ServiceException
  kLambdaCodeStorageExceeded,     // 400 CodeStorageExceededException
  // EventBridge / CloudWatch Events (json 1.1): its own exception names, all 400 but InternalException.
  kEventsResourceNotFound,        // ResourceNotFoundException
  kEventsResourceAlreadyExists,   // ResourceAlreadyExistsException
  kEventsInvalidEventPattern,     // InvalidEventPatternException
  kEventsLimitExceeded,           // LimitExceededException
  kEventsConcurrentModification,  // ConcurrentModificationException
  kEventsManagedRule,             // ManagedRuleException
  kEventsInternal,                // 500 InternalException
  // EventBridge Scheduler (rest-json).
  kSchedulerResourceNotFound,      // 404 ResourceNotFoundException
  kSchedulerConflict,              // 409 ConflictException
  kSchedulerServiceQuotaExceeded,  // 402 ServiceQuotaExceededException
  kSchedulerInternal,              // 500 InternalServerException
  // OCI distribution API (/v2/): the error codes of the distribution spec.
  kRegistryUnauthorized,         // 401 UNAUTHORIZED (with a WWW-Authenticate challenge)
  kRegistryDenied,               // 403 DENIED
  kRegistryNameInvalid,          // 400 NAME_INVALID
  kRegistryNameUnknown,          // 404 NAME_UNKNOWN
  kRegistryManifestInvalid,      // 400 MANIFEST_INVALID
  kRegistryManifestUnknown,      // 404 MANIFEST_UNKNOWN
  kRegistryManifestBlobUnknown,  // 400 MANIFEST_BLOB_UNKNOWN
  kRegistryTagInvalid,           // 400 TAG_INVALID
  kRegistryUnsupported,          // 405 UNSUPPORTED
  kRegistryPaginationInvalid,    // 400 PAGINATION_NUMBER_INVALID
  // Runtime (runc, cgroups, rootfs): never sent to a client as they are; ECS turns them into a task's
  // stoppedReason. The message names the operation, the path or command and the cause.
  kRuntimeInvalidSpec,   // inputs that cannot make a container (no command, unknown user or ulimit)
  kRuntimeImageInvalid,  // an image layout, manifest or config the runtime cannot use
  kRuntimeSystem,        // a system call failed (errno text, operation and path in the message)
  kRuntimeOciFailed,     // the OCI runtime CLI failed (its command line, exit code and stderr)
  kRuntimeCgroup,        // the host's cgroup layout is missing or unsupported
  // EC2 (ec2 protocol): EC2's own error codes.
  kEc2InvalidParameterValue,    // InvalidParameterValue
  kEc2InvalidFilter,            // InvalidFilter: a filter without a name or without values
  kEc2InvalidPaginationToken,   // InvalidPaginationToken
  kEc2DryRunOperation,          // DryRunOperation (412): the request would have succeeded
  kEc2InvalidSubnetIdNotFound,  // InvalidSubnetID.NotFound
  kEc2InvalidSubnetIdMalformed, // InvalidSubnetID.Malformed
  kEc2InvalidVpcIdNotFound,     // InvalidVpcID.NotFound
  kEc2InvalidVpcIdMalformed,    // InvalidVpcID.Malformed
  kEc2InvalidGroupNotFound,     // InvalidGroup.NotFound
  kEc2InvalidGroupIdMalformed,  // InvalidGroupId.Malformed
};

struct Error {
  ErrorKind kind;
  std::string message;
};

// How an ErrorKind appears on the wire.
struct WireError {
  std::string_view type;  // __type / Code
  int http_status;
  bool sender_fault;      // query protocol <Type>Sender|Receiver</Type>
};

// `validation_type` is the service's own name for a generic validation failure
// (e.g. "InvalidParameterException" for ECS, "ValidationError" for IAM).
WireError wire_error(ErrorKind kind, std::string_view validation_type);

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorKind::kInternal, {}};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace gantry

#define GANTRY_CONCAT_INNER(a, b) a##b
#define GANTRY_CONCAT(a, b) GANTRY_CONCAT_INNER(a, b)

// Returns the error of `expr` (a Result) from the enclosing function; otherwise continues.
#define GANTRY_RETURN_IF_ERROR(expr)                                                          \
  do {                                                                                        \
    auto&& GANTRY_CONCAT(gantry_status_, __LINE__) = (expr);                                  \
    if (!GANTRY_CONCAT(gantry_status_, __LINE__).ok())                                        \
      return GANTRY_CONCAT(gantry_status_, __LINE__).error();                                 \
  } while (0)

// Declares `lhs` from the value of `expr` (a Result), or returns its error.
#define GANTRY_ASSIGN_OR_RETURN(lhs, expr)                                          \
  auto GANTRY_CONCAT(gantry_result_, __LINE__) = (expr);                            \
  if (!GANTRY_CONCAT(gantry_result_, __LINE__).ok())                                \
    return GANTRY_CONCAT(gantry_result_, __LINE__).error();                         \
  lhs = std::move(GANTRY_CONCAT(gantry_result_, __LINE__)).value()
