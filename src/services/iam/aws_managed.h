// The AWS managed policies Gantry has built in: the ones the workflows it serves attach
// (AdministratorAccess, AmazonECSTaskExecutionRolePolicy, AWSLambdaBasicExecutionRole,
// AmazonEC2ContainerRegistryReadOnly, ...). Their documents are AWS's published ones; their ids are
// Gantry's own (stable, but not AWS's); each has one version, v1. They live in code, not in the store:
// every account sees them under arn:aws:iam::aws:policy/...
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace gantry::iam {

struct AwsManagedPolicy {
  std::string_view name;
  std::string_view path;  // "/" or "/service-role/"
  std::string_view id;
  std::string_view description;
  std::string_view document;
  std::string arn() const;  // arn:aws:iam::aws:policy<path><name>
};

const std::vector<AwsManagedPolicy>& aws_managed_policies();
const AwsManagedPolicy* find_aws_managed(std::string_view arn);

}  // namespace gantry::iam
