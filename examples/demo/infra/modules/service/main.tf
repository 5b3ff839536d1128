variable "name" {
  type = string
}

variable "replicas" {
  type = number
}

variable "instance_type" {
  type = string
}

# Stands in for the real autoscaling group, so the demo plans without a cloud.
resource "terraform_data" "this" {
  input = {
    name          = var.name
    replicas      = var.replicas
    instance_type = var.instance_type
  }
}
