output "eks_key_arn" {
  description = "Key for EKS secrets encryption."
  value       = aws_kms_key.eks.arn
}

output "data_key_arn" {
  description = "Key for RDS, ElastiCache and the evidence bucket."
  value       = aws_kms_key.data.arn
}

output "logs_key_arn" {
  description = "Key for CloudWatch log groups."
  value       = aws_kms_key.logs.arn
}
