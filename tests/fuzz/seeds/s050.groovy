def s = '''one
two'''
s + """!"""
