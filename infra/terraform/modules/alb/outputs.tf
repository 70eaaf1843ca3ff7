output "dns_name" {
  description = "ALB DNS name."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "ALB hosted zone id, for Route53 alias records."
  value       = aws_lb.this.zone_id
}

output "target_group_arn" {
  description = "Target group of the service pods."
  value       = aws_lb_target_group.service.arn
}
