def x = 5
if (x < 3) { 'small' } else if (x < 10) { 'medium' } else { 'large' }
