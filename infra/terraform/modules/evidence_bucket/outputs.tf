output "bucket_name" {
  description = "Evidence bucket name."
  value       = aws_s3_bucket.evidence.id
}

output "bucket_arn" {
  description = "Evidence bucket ARN."
  value       = aws_s3_bucket.evidence.arn
}

output "access_log_bucket_name" {
  description = "Bucket receiving S3 server access logs and ALB access logs."
  value       = aws_s3_bucket.access_logs.id
}
