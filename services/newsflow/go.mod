module github.com/newsflow/newsflow/services/newsflow

go 1.26.0

require github.com/newsflow/newsflow/pkg v0.0.0

replace github.com/newsflow/newsflow/pkg => ../../pkg
