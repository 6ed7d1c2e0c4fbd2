#!/usr/bin/env groovy
7
