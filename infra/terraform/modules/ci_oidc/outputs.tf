output "role_arn" {
  description = "Role ARN for aws-actions/configure-aws-credentials."
  value       = aws_iam_role.ci.arn
}
