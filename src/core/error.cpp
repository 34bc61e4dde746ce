#include "core/error.h"

namespace gantry {

WireError wire_error(ErrorKind kind, std::string_view validation_type) {
  switch (kind) {
    case ErrorKind::kSerialization: return {"SerializationException", 400, true};
    case ErrorKind::kUnknownOperation: return {"UnknownOperationException", 400, true};
    case ErrorKind::kUnknownOperation404: return {"UnknownOperationException", 404, true};
    case ErrorKind::kUnsupportedOperation: return {"UnsupportedOperation", 501, false};
    case ErrorKind::kUnknownService: return {"UnknownServiceException", 400, true};
    case ErrorKind::kMissingAuthentication: return {"MissingAuthenticationTokenException", 403, true};
    case ErrorKind::kIncompleteSignature: return {"IncompleteSignatureException", 400, true};
    case ErrorKind::kAuthUnrecognizedClient: return {"UnrecognizedClientException", 400, true};
    case ErrorKind::kAuthUnrecognizedClient403: return {"UnrecognizedClientException", 403, true};
    case ErrorKind::kAuthInvalidClientTokenId: return {"InvalidClientTokenId", 403, true};
    case ErrorKind::kAuthInvalidSignature: return {"InvalidSignatureException", 400, true};
    case ErrorKind::kAuthInvalidSignature403: return {"InvalidSignatureException", 403, true};
    case ErrorKind::kAuthSignatureDoesNotMatch: return {"SignatureDoesNotMatch", 403, true};
    case ErrorKind::kAuthFailure: return {"AuthFailure", 401, true};
    case ErrorKind::kAuthRequestExpired: return {"RequestExpired", 400, true};
    case ErrorKind::kAuthExpiredToken: return {"ExpiredTokenException", 400, true};
    case ErrorKind::kAuthExpiredToken403: return {"ExpiredTokenException", 403, true};
    case ErrorKind::kAuthExpiredTokenQuery: return {"ExpiredToken", 403, true};
    case ErrorKind::kAccessDenied: return {"AccessDeniedException", 400, true};
    case ErrorKind::kAccessDenied403: return {"AccessDeniedException", 403, true};
    case ErrorKind::kAccessDeniedQuery: return {"AccessDenied", 403, true};
    case ErrorKind::kUnauthorizedOperation: return {"UnauthorizedOperation", 403, true};
    case ErrorKind::kIamNoSuchEntity: return {"NoSuchEntity", 404, true};
    case ErrorKind::kIamEntityAlreadyExists: return {"EntityAlreadyExists", 409, true};
    case ErrorKind::kIamDeleteConflict: return {"DeleteConflict", 409, true};
    case ErrorKind::kIamMalformedPolicyDocument: return {"MalformedPolicyDocument", 400, true};
    case ErrorKind::kIamLimitExceeded: return {"LimitExceeded", 409, true};
    case ErrorKind::kIamInvalidInput: return {"InvalidInput", 400, true};
    case ErrorKind::kRequestTooLarge: return {"RequestEntityTooLargeException", 413, true};
    case ErrorKind::kInvalidAction: return {"InvalidAction", 400, true};
    case ErrorKind::kInternal: return {"InternalFailure", 500, false};
    case ErrorKind::kNotFound: return {"NotFoundException", 404, true};
    case ErrorKind::kValidation: return {validation_type, 400, true};
    case ErrorKind::kEcsClient: return {"ClientException", 400, true};
    case ErrorKind::kEcsServer: return {"ServerException", 500, false};
    case ErrorKind::kEcsInvalidParameter: return {"InvalidParameterException", 400, true};
    case ErrorKind::kEcsClusterNotFound: return {"ClusterNotFoundException", 400, true};
    case ErrorKind::kEcsClusterContainsTasks: return {"ClusterContainsTasksException", 400, true};
    case ErrorKind::kEcsServiceNotFound: return {"ServiceNotFoundException", 400, true};
    case ErrorKind::kEcsClusterContainsServices: return {"ClusterContainsServicesException", 400, true};
    case ErrorKind::kEcsClusterContainsContainerInstances:
      return {"ClusterContainsContainerInstancesException", 400, true};
    case ErrorKind::kEcsResourceNotFound: return {"ResourceNotFoundException", 400, true};
    case ErrorKind::kEcsResourceInUse: return {"ResourceInUseException", 400, true};
    case ErrorKind::kEcsLimitExceeded: return {"LimitExceededException", 400, true};
    case ErrorKind::kEcsUpdateInProgress: return {"UpdateInProgressException", 400, true};
    case ErrorKind::kImageDigestInvalid: return {"DIGEST_INVALID", 400, true};
    case ErrorKind::kImageBlobUnknown: return {"BLOB_UNKNOWN", 404, true};
    case ErrorKind::kImageUploadUnknown: return {"BLOB_UPLOAD_UNKNOWN", 404, true};
    // The distribution spec answers an out-of-order chunk with 416 and the upload's Range.
    case ErrorKind::kImageUploadOffset: return {"BLOB_UPLOAD_INVALID", 416, true};
    case ErrorKind::kImageUploadInvalid: return {"BLOB_UPLOAD_INVALID", 400, true};
    // Not in the OCI list; distribution (docker/registry) uses RANGE_INVALID with 416.
    case ErrorKind::kImageRangeInvalid: return {"RANGE_INVALID", 416, true};
    case ErrorKind::kImageSizeInvalid: return {"SIZE_INVALID", 400, true};
    // A layer is never unpacked on a registry request; ECR names a bad layer InvalidLayerException.
    case ErrorKind::kImageLayerInvalid: return {"InvalidLayerException", 400, true};
    case ErrorKind::kEcrServer: return {"ServerException", 500, false};
    case ErrorKind::kEcrInvalidParameter: return {"InvalidParameterException", 400, true};
    case ErrorKind::kEcrInvalidTagParameter: return {"InvalidTagParameterException", 400, true};
    case ErrorKind::kEcrTooManyTags: return {"TooManyTagsException", 400, true};
    case ErrorKind::kEcrRepositoryNotFound: return {"RepositoryNotFoundException", 400, true};
    case ErrorKind::kEcrRepositoryAlreadyExists: return {"RepositoryAlreadyExistsException", 400, true};
    case ErrorKind::kEcrRepositoryNotEmpty: return {"RepositoryNotEmptyException", 400, true};
    case ErrorKind::kEcrRepositoryPolicyNotFound: return {"RepositoryPolicyNotFoundException", 400, true};
    case ErrorKind::kEcrImageNotFound: return {"ImageNotFoundException", 400, true};
    case ErrorKind::kEcrImageAlreadyExists: return {"ImageAlreadyExistsException", 400, true};
    case ErrorKind::kEcrImageTagAlreadyExists: return {"ImageTagAlreadyExistsException", 400, true};
    case ErrorKind::kEcrImageDigestDoesNotMatch: return {"ImageDigestDoesNotMatchException", 400, true};
    case ErrorKind::kEcrLayersNotFound: return {"LayersNotFoundException", 400, true};
    case ErrorKind::kEcrReferencedImagesNotFound: return {"ReferencedImagesNotFoundException", 400, true};
    case ErrorKind::kEcrLimitExceeded: return {"LimitExceededException", 400, true};
    case ErrorKind::kLambdaResourceNotFound: return {"ResourceNotFoundException", 404, true};
    case ErrorKind::kLambdaResourceConflict: return {"ResourceConflictException", 409, true};
    case ErrorKind::kLambdaInvalidParameterValue: return {"InvalidParameterValueException", 400, true};
    case ErrorKind::kLambdaInvalidRequestContent: return {"InvalidRequestContentException", 400, true};
    case ErrorKind::kLambdaRequestTooLarge: return {"RequestTooLargeException", 413, true};
    case ErrorKind::kLambdaTooManyRequests: return {"TooManyRequestsException", 429, true};
    case ErrorKind::kLambdaPreconditionFailed: return {"PreconditionFailedException", 412, true};
    case ErrorKind::kLambdaPolicyLengthExceeded: return {"PolicyLengthExceededException", 400, true};
    case ErrorKind::kLambdaResourceNotReady: return {"ResourceNotReadyException", 502, false};
    case ErrorKind::kLambdaService: return {"ServiceException", 500, false};
    case ErrorKind::kLambdaCodeStorageExceeded: return {"CodeStorageExceededException", 400, true};
    case ErrorKind::kEventsResourceNotFound: return {"ResourceNotFoundException", 400, true};
    case ErrorKind::kEventsResourceAlreadyExists: return {"ResourceAlreadyExistsException", 400, true};
    case ErrorKind::kEventsInvalidEventPattern: return {"InvalidEventPatternException", 400, true};
    case ErrorKind::kEventsLimitExceeded: return {"LimitExceededException", 400, true};
    case ErrorKind::kEventsConcurrentModification: return {"ConcurrentModificationException", 400, true};
    case ErrorKind::kEventsManagedRule: return {"ManagedRuleException", 400, true};
    case ErrorKind::kEventsInternal: return {"InternalException", 500, false};
    case ErrorKind::kSchedulerResourceNotFound: return {"ResourceNotFoundException", 404, true};
    case ErrorKind::kSchedulerConflict: return {"ConflictException", 409, true};
    case ErrorKind::kSchedulerServiceQuotaExceeded: return {"ServiceQuotaExceededException", 402, true};
    case ErrorKind::kSchedulerInternal: return {"InternalServerException", 500, false};
    case ErrorKind::kLogsResourceNotFound: return {"ResourceNotFoundException", 400, true};
    case ErrorKind::kLogsResourceAlreadyExists: return {"ResourceAlreadyExistsException", 400, true};
    case ErrorKind::kLogsInvalidParameter: return {"InvalidParameterException", 400, true};
    case ErrorKind::kLogsInvalidSequenceToken: return {"InvalidSequenceTokenException", 400, true};
    case ErrorKind::kLogsDataAlreadyAccepted: return {"DataAlreadyAcceptedException", 400, true};
    case ErrorKind::kLogsLimitExceeded: return {"LimitExceededException", 400, true};
    case ErrorKind::kLogsTooManyTags: return {"TooManyTagsException", 400, true};
    case ErrorKind::kLogsServiceUnavailable: return {"ServiceUnavailableException", 500, false};
    case ErrorKind::kLogsUnrecognizedClient: return {"UnrecognizedClientException", 400, true};
    case ErrorKind::kRegistryUnauthorized: return {"UNAUTHORIZED", 401, true};
    case ErrorKind::kRegistryDenied: return {"DENIED", 403, true};
    case ErrorKind::kRegistryNameInvalid: return {"NAME_INVALID", 400, true};
    case ErrorKind::kRegistryNameUnknown: return {"NAME_UNKNOWN", 404, true};
    case ErrorKind::kRegistryManifestInvalid: return {"MANIFEST_INVALID", 400, true};
    case ErrorKind::kRegistryManifestUnknown: return {"MANIFEST_UNKNOWN", 404, true};
    case ErrorKind::kRegistryManifestBlobUnknown: return {"MANIFEST_BLOB_UNKNOWN", 400, true};
    case ErrorKind::kRegistryTagInvalid: return {"TAG_INVALID", 400, true};
    case ErrorKind::kRegistryUnsupported: return {"UNSUPPORTED", 405, true};
    case ErrorKind::kRegistryPaginationInvalid: return {"PAGINATION_NUMBER_INVALID", 400, true};
    case ErrorKind::kRuntimeInvalidSpec: return {"ClientException", 400, true};
    case ErrorKind::kRuntimeImageInvalid: return {"ClientException", 400, true};
    case ErrorKind::kRuntimeSystem: return {"ServerException", 500, false};
    case ErrorKind::kRuntimeOciFailed: return {"ServerException", 500, false};
    case ErrorKind::kRuntimeCgroup: return {"ServerException", 500, false};
    case ErrorKind::kEc2InvalidParameterValue: return {"InvalidParameterValue", 400, true};
    case ErrorKind::kEc2InvalidFilter: return {"InvalidFilter", 400, true};
    case ErrorKind::kEc2InvalidPaginationToken: return {"InvalidPaginationToken", 400, true};
    case ErrorKind::kEc2DryRunOperation: return {"DryRunOperation", 412, true};
    case ErrorKind::kEc2InvalidSubnetIdNotFound: return {"InvalidSubnetID.NotFound", 400, true};
    case ErrorKind::kEc2InvalidSubnetIdMalformed: return {"InvalidSubnetID.Malformed", 400, true};
    case ErrorKind::kEc2InvalidVpcIdNotFound: return {"InvalidVpcID.NotFound", 400, true};
    case ErrorKind::kEc2InvalidVpcIdMalformed: return {"InvalidVpcID.Malformed", 400, true};
    case ErrorKind::kEc2InvalidGroupNotFound: return {"InvalidGroup.NotFound", 400, true};
    case ErrorKind::kEc2InvalidGroupIdMalformed: return {"InvalidGroupId.Malformed", 400, true};
  }
  return {"InternalFailure", 500, false};
}

}  // namespace gantry
