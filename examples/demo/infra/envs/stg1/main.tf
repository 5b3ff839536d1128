variable "replicas" {
  type = number
}

variable "instance_type" {
  type = string
}

module "service" {
  source        = "../../modules/service"
  name          = "api-search"
  replicas      = var.replicas
  instance_type = var.instance_type
}
