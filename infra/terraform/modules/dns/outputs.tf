output "zone_id" {
  description = "Hosted zone id."
  value       = data.aws_route53_zone.this.zone_id
}

output "certificate_arn" {
  description = "Validated ACM certificate ARN."
  value       = aws_acm_certificate_validation.this.certificate_arn
}
