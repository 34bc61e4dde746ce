#include "services/iam/aws_managed.h"

#include <fmt/format.h>

namespace gantry::iam {

std::string AwsManagedPolicy::arn() const { return fmt::format("arn:aws:iam::aws:policy{}{}", path, name); }

const std::vector<AwsManagedPolicy>& aws_managed_policies() {
  static const std::vector<AwsManagedPolicy> policies = {
      {"AdministratorAccess", "/", "ANPAGANTRYADMINACCESS1",
       "Provides full access to AWS services and resources.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"},
      {"ReadOnlyAccess", "/", "ANPAGANTRYREADONLYACC1",
       "Provides read-only access to the services Gantry implements.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*",)"
       R"("ecr:BatchGetImage","ecr:Describe*","ecr:Get*","ecr:List*","ecr:BatchCheckLayerAvailability",)"
       R"("logs:Describe*","logs:Get*","logs:FilterLogEvents","logs:ListTagsForResource","logs:ListTagsLogGroup",)"
       R"("ec2:Describe*","iam:Get*","iam:List*","lambda:Get*","lambda:List*","events:Describe*","events:List*",)"
       R"("scheduler:Get*","scheduler:List*"],"Resource":"*"}]})"},
      {"AmazonECSTaskExecutionRolePolicy", "/service-role/", "ANPAGANTRYECSTASKEXEC1",
       "Provides access to other AWS service resources that are required to run Amazon ECS tasks",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken",)"
       R"("ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage",)"
       R"("logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]})"},
      {"AWSLambdaBasicExecutionRole", "/service-role/", "ANPAGANTRYLAMBDABASIC1",
       "Provides write permissions to CloudWatch Logs.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup",)"
       R"("logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]})"},
      {"AmazonEC2ContainerRegistryReadOnly", "/", "ANPAGANTRYECRREADONLY1",
       "Provides read-only access to Amazon EC2 Container Registry repositories.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken",)"
       R"("ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy",)"
       R"("ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage",)"
       R"("ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview","ecr:ListTagsForResource",)"
       R"("ecr:DescribeImageScanFindings"],"Resource":"*"}]})"},
      {"AmazonEC2ContainerRegistryPowerUser", "/", "ANPAGANTRYECRPOWERUS1",
       "Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository and "
       "policy management.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken",)"
       R"("ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy",)"
       R"("ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage",)"
       R"("ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview","ecr:ListTagsForResource",)"
       R"("ecr:DescribeImageScanFindings","ecr:InitiateLayerUpload","ecr:UploadLayerPart",)"
       R"("ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"*"}]})"},
      {"CloudWatchLogsFullAccess", "/", "ANPAGANTRYLOGSFULLAC1",
       "Provides full access to CloudWatch Logs",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*"],"Resource":"*"}]})"},
      {"AmazonECS_FullAccess", "/", "ANPAGANTRYECSFULLACC1",
       "Provides administrative access to Amazon ECS resources (the ECS part of AWS's policy).",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:*"],"Resource":"*"},)"
       R"({"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringLike":)"
       R"({"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}]})"},
  };
  return policies;
}

const AwsManagedPolicy* find_aws_managed(std::string_view arn) {
  for (const auto& p : aws_managed_policies())
    if (p.arn() == arn) return &p;
  return nullptr;
}

}  // namespace gantry::iam
